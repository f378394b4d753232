// npm run bench (as root): measures the hardening on the sandbox host (bench/hardening.ts), profiles
// its steps (bench/profile.ts), measures the program under mocks (bench/fleet.ts) and its start-up
// under Pulumi's own loader (bench/startup.ts), each figure the median of BENCH_RUNS runs, each
// comparison side by side in the same run, and writes each section of bench/RESULTS.md as soon as
// it is measured. `npm run bench -- SECTION` measures one section (hardening, profile, fleet;
// startup needs no root) and replaces only that one. BENCH_BEFORE=REF runs the host scripts of
// git ref REF beside today's in the hardening rows. Benchmarks, not tests: nothing here asserts a time.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Sandbox, sandboxUnavailable } from "../test/support/host/sandbox";
import { type RemoteStep, runStep } from "../test/support/host/deploy";
import { benchStartup, fleetResult, startupBlock } from "./startup";
import { benchHardening, hardeningSteps, median } from "./hardening";
import { profileBlock, profileSteps } from "./profile";
import { replaceSection } from "./results";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);
const FLEETS = [1, 10, 100, 500];
const RESULTS = path.join(__dirname, "RESULTS.md");

const fmt = (s: number) => `${s.toFixed(2)} s`;
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** One traced run of each step: a first hardening of the seed's policy and of 200 rules, one rule changed of 200, a forced re-run. */
async function profile(sandbox: Sandbox, key: string): Promise<string> {
  const run = async (step: RemoteStep) => {
    const r = await runStep(sandbox, step);
    if (r.code !== 0) throw new Error(`${step.name} failed:\n${r.stdout}\n${r.stderr}`);
  };
  const [seed, base, changed] = [
    await hardeningSteps(sandbox, key, 2),
    await hardeningSteps(sandbox, key, 200),
    await hardeningSteps(sandbox, key, 200, 1),
  ];
  const load = os.loadavg()[0]!;
  sandbox.resetHost();
  const profiles = await profileSteps("first hardening, the seed's policy", seed, sandbox.dir, run);
  sandbox.resetHost();
  profiles.push(...(await profileSteps("first hardening, 200 rules", base, sandbox.dir, run)));
  profiles.push(...(await profileSteps("one rule changed of 200", changed, sandbox.dir, run)));
  profiles.push(
    ...(await profileSteps("forced re-run, nothing to do", changed.slice(0, 1), sandbox.dir, run)),
  );
  for (const p of profiles) {
    log(
      `${p.step}: ${fmt(p.wallSeconds)} over SSH, ${fmt(p.hostSeconds)} on the host, ${p.commands} commands`,
    );
    for (const [fn, s] of p.byFunction.slice(0, 8)) log(`  ${fn} ${(s * 1000).toFixed(0)} ms`);
  }
  return profileBlock(
    profiles,
    `One run of each step on the sandbox host, 1-minute load average ${load.toFixed(1)} when it began, ${os.loadavg()[0]!.toFixed(1)} when it ended (${os.cpus().length} cores, shared). Tracing adds a few per cent to the host's share.`,
  );
}

/** A sandbox for `work`, destroyed after it. */
async function withSandbox<T>(work: (sandbox: Sandbox, key: string) => Promise<T>): Promise<T> {
  const unavailable = sandboxUnavailable();
  if (unavailable) throw new Error(`npm run bench ${unavailable}`);
  const sandbox = await new Sandbox().create();
  try {
    return await work(sandbox, fs.readFileSync(sandbox.clientKey, "utf8"));
  } finally {
    sandbox.destroy();
  }
}

const hardening = (seed: boolean) => (sandbox: Sandbox, key: string) =>
  benchHardening({
    sandbox,
    key,
    runs: RUNS,
    seed,
    log,
    ...(process.env["BENCH_BEFORE"] ? { before: process.env["BENCH_BEFORE"] } : {}),
  });

/** The program under mocks: a fleet of N servers in one stack (bench/fleet.ts, under tsx). */
function fleetBlock(): string {
  const load = os.loadavg()[0]!;
  // 5. The program under mocks: a fleet of N servers in one stack.
  const fleet: { n: number; seconds: number; mib: number; resources: number }[] = [];
  for (const n of FLEETS) {
    const seconds: number[] = [];
    const mib: number[] = [];
    let resources = 0;
    for (let run = 0; run < RUNS; run++) {
      const r = spawnSync(
        "/usr/bin/time",
        ["-v", "node", "--import", "tsx", path.join(__dirname, "fleet.ts"), String(n)],
        {
          encoding: "utf8",
        },
      );
      if (r.status !== 0) throw new Error(`fleet ${n} failed: ${r.stderr}`);
      resources = Number(fleetResult(r.stdout)[0]);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
        r.stderr,
      )!;
      seconds.push(Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]));
      mib.push(Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]) / 1024);
    }
    fleet.push({ n, seconds: median(seconds), mib: median(mib), resources });
    log(`fleet of ${n}: ${fmt(median(seconds))}, ${median(mib).toFixed(0)} MiB`);
  }

  // Where the time at 500 goes: Pulumi's SDK captures a stack trace for every promise it makes
  // (runtime/debuggable.js); measured again with stack traces off, beside the figure above.
  const diag: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = spawnSync(
      "/usr/bin/time",
      [
        "-f",
        "%e",
        "node",
        "--stack-trace-limit=0",
        "--import",
        "tsx",
        path.join(__dirname, "fleet.ts"),
        "500",
      ],
      {
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`fleet diagnosis failed: ${r.stderr}`);
    diag.push(Number(r.stderr.trim().split("\n").at(-1)));
  }
  log(`fleet of 500 without stack traces: ${fmt(median(diag))}`);

  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  const big = fleet.at(-1)!;
  return [
    "<!-- fleet -->",
    "## The program under mocks",
    "",
    `- Date: ${new Date().toISOString()}; command: \`npm run bench\` or \`npm run bench -- fleet\` (\`BENCH_RUNS=${RUNS}\`); bench/fleet.ts under tsx, wall time and peak memory from \`/usr/bin/time -v\`, each the median of ${RUNS} runs; 1-minute load average ${load.toFixed(1)} when it began, ${os.loadavg()[0]!.toFixed(1)} when it ended (${os.cpus().length} cores, shared)`,
    "",
    "| Measurement | Result | Per server | Target | |",
    "|---|---|---|---|---|",
    ...fleet.map(
      (x) =>
        `| Program under mocks, ${x.n} server${x.n === 1 ? "" : "s"} (${x.resources} resources) | ${fmt(x.seconds)}, ${x.mib.toFixed(0)} MiB peak | ${(x.seconds / x.n).toFixed(3)} s | ${x.n === 500 ? "≤ 1 GiB (moonshot ≤ 20 s)" : "—"} | ${x.n === 500 ? verdict(x.mib <= 1024) : ""} |`,
    ),
    "",
    `The same program at ${big.n} servers with \`node --stack-trace-limit=0\` (diagnosis only) takes ${fmt(median(diag))}: see the analysis below.`,
    "",
    "<!-- /fleet -->",
  ].join("\n");
}

const MODES = ["hardening", "profile", "fleet", "startup"] as const;

async function section(mode: (typeof MODES)[number]): Promise<string> {
  switch (mode) {
    case "hardening":
      return withSandbox(hardening(process.env["BENCH_SEED"] !== "no"));
    case "profile":
      return withSandbox(profile);
    case "fleet":
      return fleetBlock();
    case "startup":
      return startupBlock(await benchStartup(RUNS, log), RUNS);
  }
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode))
    throw new Error(`npm run bench takes ${MODES.join(", ")} or nothing, not ${mode}`);
  // Each section is written as soon as it is measured: a run cut short keeps what it measured.
  for (const m of mode ? [mode as (typeof MODES)[number]] : MODES) {
    replaceSection(RESULTS, m, await section(m));
    log(`wrote the ${m} section of ${RESULTS}`);
  }
  if (!mode) writeHeader();
}

/** The file's header, everything before its first section: the machine and the command. */
function writeHeader(): void {
  const text = fs.readFileSync(RESULTS, "utf8");
  const cpu = os.cpus();
  const header = [
    "# Benchmark results",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${os.release()}, Node ${process.version}`,
    `- Command: \`npm run bench\` (as root; \`BENCH_RUNS=${RUNS}\`); each section says when it was measured, and \`npm run bench -- SECTION\` measures one again`,
    "",
  ].join("\n");
  fs.writeFileSync(RESULTS, header + "\n" + text.slice(text.indexOf("<!-- ")));
  log(`wrote ${RESULTS}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
