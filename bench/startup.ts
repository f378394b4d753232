// Start-up under Pulumi's own loader: from the program's process start until every resource is
// registered, as `pulumi up` starts it (test/support/pulumi/pulumiRun.ts: @pulumi/pulumi's cmd/run and
// its ts-node, the engine mocked), with ts-node's cache empty each run, as in a fresh CI
// container. Each figure beside its baseline, measured alternately in the same run:
// - each stack in stacks/: Pulumi.yaml as it is (transpile-only) beside it without its tsconfig
//   option (type-checked, as before);
// - the fleet of 500 (bench/fleet/) under Pulumi's loader beside bench/fleet.ts under tsx.
// Benchmarks, not tests: nothing here asserts a time.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { pulumiRun } from "../test/support/pulumi/pulumiRun";

const ROOT = path.join(__dirname, "..");
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n";
const STACK_TARGET = 2.5;
const FLEET = 500;
const FLEET_TARGET = 8;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (s: number) => `${s.toFixed(2)} s`;
/** Wall time, then the CPU time the program had used by then. */
const both = (wall: number, cpu: number) => `${fmt(wall)} (CPU ${fmt(cpu)})`;
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

/** bench/fleet.ts's result, its last line: the program's own log lines (pulumi.log) come before it. */
export function fleetResult(stdout: string): [resources: string, ms: string] {
  const [resources = "", ms = ""] = stdout.trim().split("\n").at(-1)!.split(" ");
  return [resources, ms];
}

export interface StartupResults {
  readonly rows: string[];
  readonly notes: string[];
}

export async function benchStartup(runs: number, log: (line: string) => void): Promise<StartupResults> {
  const load = [os.loadavg()[0]!];
  const rows = [
    "| Measurement (start → every resource registered, ts-node cache empty) | Pulumi's loader, transpile-only (now) | Beside it | Beside ÷ now | Target | |",
    "|---|---|---|---|---|---|",
  ];
  const notes: string[] = [];
  const stacks = fs
    .readdirSync(path.join(ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
  for (const stack of stacks) {
    const config = (
      parseYaml(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      }
    ).config;
    const run = (typeChecked: boolean) =>
      pulumiRun({
        project: ROOT,
        stack,
        config: { ...config, "openclaw:sshPrivateKey": KEY },
        secretKeys: ["openclaw:sshPrivateKey"],
        ...(typeChecked ? { runtimeOptions: { tsconfig: undefined } } : {}),
      });
    const now: number[] = [];
    const nowCpu: number[] = [];
    const before: number[] = [];
    const beforeCpu: number[] = [];
    let resources = 0;
    for (let i = 0; i < runs; i++) {
      const r = await run(false);
      now.push(r.registeredMs / 1000);
      nowCpu.push(r.cpuMs / 1000);
      resources = r.registrations.length;
      const t = await run(true);
      before.push(t.registeredMs / 1000);
      beforeCpu.push(t.cpuMs / 1000);
    }
    const [n, b] = [median(now), median(before)];
    log(`stack ${stack}: transpile-only ${fmt(n)}, type-checked ${fmt(b)}`);
    rows.push(
      `| Stack \`${stack}\` (target ${String(config["openclaw:target"])}, ${resources} resources) | ${both(n, median(nowCpu))} | type-checked (Pulumi.yaml without \`tsconfig\`, as before): ${both(b, median(beforeCpu))} | ${(b / n).toFixed(1)}× | ≤ ${STACK_TARGET} s | ${verdict(n <= STACK_TARGET)} |`,
    );
    if (n > STACK_TARGET)
      notes.push(`Stack \`${stack}\` misses its start-up target by ${fmt(n - STACK_TARGET)}.`);
  }

  const pulumiFleet: number[] = [];
  const pulumiFleetCpu: number[] = [];
  const noTraces: number[] = [];
  const noTracesCpu: number[] = [];
  const tsxFleet: number[] = [];
  let resources = 0;
  const fleet = (nodeargs?: string) =>
    pulumiRun({
      project: path.join(__dirname, "fleet"),
      stack: "bench",
      config: { "fleet:count": String(FLEET) },
      ...(nodeargs ? { runtimeOptions: { nodeargs } } : {}),
    });
  for (let i = 0; i < runs; i++) {
    const r = await fleet();
    pulumiFleet.push(r.registeredMs / 1000);
    pulumiFleetCpu.push(r.cpuMs / 1000);
    resources = r.registrations.length;
    // Diagnosis: the same with no stack traces captured (see "Where the fleet's time goes").
    const n = await fleet("--stack-trace-limit=0");
    noTraces.push(n.registeredMs / 1000);
    noTracesCpu.push(n.cpuMs / 1000);
    const t = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "fleet.ts"), String(FLEET)],
      {
        encoding: "utf8",
      },
    );
    if (t.status !== 0) throw new Error(`fleet under tsx failed: ${t.stderr}`);
    tsxFleet.push(Number(fleetResult(t.stdout)[1]) / 1000);
  }
  const [p, t] = [median(pulumiFleet), median(tsxFleet)];
  log(
    `fleet of ${FLEET}: Pulumi's loader ${fmt(p)}, without stack traces ${fmt(median(noTraces))}, tsx ${fmt(t)}`,
  );
  rows.push(
    `| Fleet of ${FLEET} servers in one stack (bench/fleet/, ${resources} resources) | ${both(p, median(pulumiFleetCpu))} | tsx (bench/fleet.ts, row 5's loader): ${fmt(t)}; Pulumi's loader with \`node --stack-trace-limit=0\` (diagnosis only): ${both(median(noTraces), median(noTracesCpu))} | ${(t / p).toFixed(1)}× | ≤ ${FLEET_TARGET} s | ${verdict(p <= FLEET_TARGET)} |`,
  );
  if (p > FLEET_TARGET)
    notes.push(`The fleet of ${FLEET} misses its start-up target by ${fmt(p - FLEET_TARGET)}.`);
  load.push(os.loadavg()[0]!);
  rows.push(
    "",
    `Each figure is the median of ${runs} runs, each baseline run alternately with it. The machine was shared with other sessions running tests at the same time: its 1-minute load average was ${load[0]!.toFixed(1)} when these measurements began and ${load[1]!.toFixed(1)} when they ended (${os.cpus().length} cores).`,
  );
  return { rows, notes };
}

/** The start-up section of bench/RESULTS.md, between its markers. */
export function startupBlock(results: StartupResults, runs: number): string {
  return [
    "<!-- startup -->",
    "## Start-up under Pulumi's loader",
    "",
    `- Date: ${new Date().toISOString()}; command: \`npm run bench\` or \`npm run bench -- startup\` (\`BENCH_RUNS=${runs}\`)`,
    "",
    ...results.rows,
    "",
    ...(results.notes.length ? ["Targets missed:", "", ...results.notes.map((n) => `- ${n}`), ""] : []),
    "<!-- /startup -->",
  ].join("\n");
}
