// The hardening's figures on the sandbox host (test/support/host/sandbox.ts): the first hardening
// at 2 (the seed's policy), 20 and 200 rules, one rule changed of 200, a forced re-run with
// nothing to do. Each figure is the median of `runs`, and beside it, measured in the same loop:
// - the same steps with the host scripts of BENCH_BEFORE (a git ref; `before`), when given;
// - the seed's way (one `ufw` per rule; reset and re-apply), unless BENCH_SEED=no;
// - the floor: a bare `ssh host true` and a bare `ufw status` on the host;
// - the 1-minute load average when the figure began and ended: the machine may be shared.
// Benchmarks, not tests: nothing here asserts a time.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Sandbox } from "../test/support/host/sandbox";
import { type RemoteStep, remoteSteps, runStep, sandboxOverrides } from "../test/support/host/deploy";
import { REMOTE_SHELL } from "../components/hardening/script";
import { measuredHash } from "./results";

const ROOT = path.join(__dirname, "..");
const HOST_DIR = "components/hardening";

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (s: number) => `${s.toFixed(2)} s`;

/** A policy that renders to exactly `rules` UFW rules: SSH, then 8000/tcp from rules-1 networks. */
export function firewall(rules: number, variant = 0) {
  const sources = ["192.168.1.0/24"];
  for (let i = 1; sources.length < rules - 1; i++)
    sources.push(`10.${(i + variant) >> 8}.${(i + variant) & 255}.0/24`);
  return {
    ssh: { adminCidrs: ["0.0.0.0/0", "::/0"] },
    services: [
      { name: "openclaw-api", ports: [8000], protocol: "tcp", sources: sources.slice(0, rules - 1) },
    ],
    logging: "medium",
    ipv6: true,
  };
}

/** The seed's way: one ufw command per rule, in the seed's order, in one SSH session. */
function seedScript(rules: number, reset: boolean): string {
  const lines = ["set -e"];
  if (reset) lines.push("ufw --force reset >/dev/null");
  lines.push("ufw default deny incoming", "ufw default allow outgoing", "ufw allow 22/tcp");
  for (const source of firewall(rules).services[0]!.sources) {
    lines.push(`ufw allow from ${source} to any port 8000 proto tcp`);
  }
  lines.push("ufw logging medium", "ufw --force enable");
  return lines.map((l) => (l.startsWith("ufw") ? `${l} >/dev/null` : l)).join("\n") + "\n";
}

/** The host scripts as they are at git ref `ref`, to run beside today's. */
function scriptsAt(ref: string): { sh: string; py: string } {
  const show = (file: string) =>
    execFileSync("git", ["-C", ROOT, "show", `${ref}:${HOST_DIR}/${file}`], { encoding: "utf8" });
  return { sh: show("hardening.sh"), py: show("ufw_batch.py") };
}

/** `steps` with the host scripts swapped for `before`'s: the same policy and settings. */
function withScripts(steps: RemoteStep[], before: { sh: string; py: string }): RemoteStep[] {
  const now = {
    sh: fs.readFileSync(path.join(ROOT, HOST_DIR, "hardening.sh"), "utf8").trimEnd(),
    py: fs.readFileSync(path.join(ROOT, HOST_DIR, "ufw_batch.py"), "utf8").trimEnd(),
  };
  return steps.map((step) => {
    if (!step.stdin.includes(now.sh) || !step.stdin.includes(now.py))
      throw new Error(`${step.name}: its script does not hold today's host scripts verbatim`);
    const stdin = step.stdin
      .replace(now.sh, () => before.sh.trimEnd())
      .replace(now.py, () => before.py.trimEnd());
    return { ...step, stdin };
  });
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - start) / 1e9, result];
}

export interface Figure {
  readonly runs: Record<string, number[]>;
  readonly load: [number, number];
}

/** What the rows are measured with. */
export interface HardeningBench {
  readonly sandbox: Sandbox;
  readonly key: string;
  readonly runs: number;
  /** BENCH_BEFORE: the git ref whose host scripts run beside today's. */
  readonly before?: string;
  /** The seed's baselines and the probers (left out with BENCH_SEED=no: they take minutes). */
  readonly seed: boolean;
  readonly log: (line: string) => void;
}

/** The home stack's harden, verify and confirm on the sandbox, for a policy of `rules` rules. */
export const hardeningSteps = (sandbox: Sandbox, key: string, rules: number, variant = 0) =>
  remoteSteps(sandbox, "home", key, {
    ...sandboxOverrides(sandbox),
    "openclaw:firewall": firewall(rules, variant),
  });

export async function benchHardening(b: HardeningBench): Promise<string> {
  const { sandbox, key } = b;
  const before = b.before ? scriptsAt(b.before) : undefined;
  const steps = (rules: number, variant = 0) => hardeningSteps(sandbox, key, rules, variant);
  const must = async (step: RemoteStep) => {
    const r = await runStep(sandbox, step);
    if (r.code !== 0) throw new Error(`${step.name} failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const apply = async (s: RemoteStep[]) => {
    for (const step of s) await must(step);
  };
  const connection = (await steps(2))[0]!.connection;
  const seed = (script: string) => must({ name: "seed", command: REMOTE_SHELL, stdin: script, connection });
  // The floor, measured in each figure's loop: an SSH session that does nothing, and one ufw start.
  const floor = async (runs: Record<string, number[]>) => {
    (runs["ssh true"] ??= []).push(
      (await timed(() => must({ name: "ssh-true", command: "true", stdin: "", connection })))[0],
    );
    const [ufw, r] = await timed(() => sandbox.exec(sandbox.server.ns, ["ufw", "status"]));
    if (r.code !== 0) throw new Error(`ufw status failed: ${r.stderr}`);
    (runs["ufw status"] ??= []).push(ufw);
  };
  const figure = async (loop: (runs: Record<string, number[]>) => Promise<void>): Promise<Figure> => {
    const runs: Record<string, number[]> = {};
    const start = os.loadavg()[0]!;
    for (let run = 0; run < b.runs; run++) {
      await loop(runs);
      await floor(runs);
    }
    return { runs, load: [start, os.loadavg()[0]!] };
  };
  const push = (runs: Record<string, number[]>, name: string, seconds: number) =>
    (runs[name] ??= []).push(seconds);

  // One untimed run first: the first steps on a new sandbox pay for cold caches (ufw's Python
  // modules, sshd's first sessions), which would fall on the first row alone.
  sandbox.resetHost();
  await apply(await steps(2));

  // 1. First hardening of a fresh host: harden + verify + confirm.
  const first: Record<number, Figure> = {};
  for (const rules of [2, 20, 200]) {
    const ours = await steps(rules);
    first[rules] = await figure(async (runs) => {
      sandbox.resetHost();
      push(runs, "ours", (await timed(() => apply(ours)))[0]);
      if (before) {
        sandbox.resetHost();
        push(runs, "before", (await timed(() => apply(withScripts(ours, before))))[0]);
      }
      if (b.seed) {
        sandbox.resetHost();
        push(runs, "seed", (await timed(() => seed(seedScript(rules, false))))[0]);
      }
    });
    b.log(`first hardening, ${rules} rules: ${summary(first[rules])}`);
  }

  // 2. One rule changed of 200: harden + verify + confirm (harden alone beside it).
  const base = await steps(200);
  const changed = await steps(200, 1);
  const wrong = { ours: [] as number[], seed: [] as number[], attempts: [] as number[] };
  const change = await figure(async (runs) => {
    const one = async (name: string, s: RemoteStep[], b0: RemoteStep[]) => {
      sandbox.resetHost();
      await apply(b0);
      const [harden] = await timed(() => must(s[0]!));
      const [rest] = await timed(() => apply(s.slice(1)));
      push(runs, name, harden + rest);
      push(runs, `${name} harden`, harden);
    };
    await one("ours", changed, base);
    if (before) await one("before", withScripts(changed, before), withScripts(base, before));
    if (b.seed) {
      // Wrong answers while the change is applied: ours, then reset and re-apply, under probers.
      for (const way of ["ours", "seed"] as const) {
        sandbox.resetHost();
        await apply(base);
        const open = sandbox.watch(sandbox.trusted, [{ host: sandbox.server.v4, port: 8000 }], 3000);
        const blocked = sandbox.watch(sandbox.untrusted, [{ host: sandbox.server.v4, port: 8000 }], 200);
        await new Promise((r) => setTimeout(r, 500));
        const [seconds] = await timed(async () => {
          if (way === "ours") await apply(changed);
          else await seed(seedScript(200, true));
        });
        await new Promise((r) => setTimeout(r, 500));
        const [o, bl] = (await Promise.all([open.stop(), blocked.stop()])).map((w) => w.counts[0]!);
        if (way === "seed") push(runs, "seed", seconds);
        wrong[way].push(o!.blocked + o!.refused + bl!.open);
        if (way === "ours")
          wrong.attempts.push(o!.open + o!.blocked + o!.refused + bl!.open + bl!.blocked + bl!.refused);
      }
    }
  });
  b.log(`one change in 200: ${summary(change)}`);

  // 3. A forced re-run with nothing to do: the harden step alone (what --replace runs first).
  let kernelChanges = 0;
  const rerun = await figure(async (runs) => {
    for (const [name, s] of [["ours", base], ...(before ? [["before", withScripts(base, before)]] : [])] as [
      string,
      RemoteStep[],
    ][]) {
      sandbox.resetHost();
      await apply(s);
      const chains = sandbox.userChains();
      const [seconds, out] = await timed(() => must(s[0]!));
      if (!out.includes("no changes")) throw new Error(`unchanged re-run changed something:\n${out}`);
      if (name === "ours" && sandbox.userChains() !== chains) kernelChanges++;
      push(runs, name, seconds);
    }
  });
  b.log(`forced re-run: ${summary(rerun)}`);

  const m = (f: Figure, name: string) => (f.runs[name] ? fmt(median(f.runs[name]!)) : "—");
  const beside = (f: Figure) =>
    `${m(f, "ssh true")} / ${m(f, "ufw status")} | ${f.load[0].toFixed(1)} → ${f.load[1].toFixed(1)}`;
  const verdict = (f: Figure, target: number) => (median(f.runs["ours"]!) <= target ? "met" : "**missed**");
  const rows = [
    "| Measurement | Ours | Before (BENCH_BEFORE) | Seed's way | Floor: `ssh host true` / `ufw status` | Load (1 min, start → end) | Target | |",
    "|---|---|---|---|---|---|---|---|",
    ...[2, 20, 200].map((n) => {
      const f = first[n]!;
      const target = n === 2 ? 2.5 : n === 200 ? 3 : undefined;
      const what = n === 2 ? "2 rules (the seed's policy)" : `${n} rules`;
      return `| First hardening, ${what}, harden + verify + confirm | ${m(f, "ours")} | ${m(f, "before")} | one \`ufw\` per rule: ${m(f, "seed")} | ${beside(f)} | ${target ? `≤ ${target} s` : "—"} | ${target ? verdict(f, target) : ""} |`;
    }),
    `| One rule changed of 200, harden + verify + confirm (harden alone: ours ${m(change, "ours harden")}, before ${m(change, "before harden")}) | ${m(change, "ours")} | ${m(change, "before")} | reset and re-apply: ${m(change, "seed")} | ${beside(change)} | ≤ 2 s | ${verdict(change, 2)} |`,
    `| Forced re-run with nothing to do (harden step); kernel rules changed in ${kernelChanges} of ${b.runs} runs | ${m(rerun, "ours")} | ${m(rerun, "before")} | — | ${beside(rerun)} | ≤ 0.5 s, 0 changes | ${median(rerun.runs["ours"]!) <= 0.5 && kernelChanges === 0 ? "met" : "**missed**"} |`,
  ];
  if (b.seed) {
    rows.push(
      `| Wrong answers while one rule of 200 changes, two probers running (ours; median ${median(wrong.attempts)} attempts a run; all runs ${JSON.stringify(wrong.ours)}) | ${median(wrong.ours)} | — | reset and re-apply: ${median(wrong.seed)} (all runs ${JSON.stringify(wrong.seed)}) | — | — | 0 | ${wrong.ours.every((w) => w === 0) ? "met" : "**missed**"} |`,
    );
  }
  return [
    "<!-- hardening -->",
    "## The hardening on the sandbox host",
    "",
    `- Date: ${new Date().toISOString()}; command: \`npm run bench\` or \`npm run bench -- hardening\` (as root; \`BENCH_RUNS=${b.runs}\`${b.before ? `, \`BENCH_BEFORE=${b.before}\`` : ""})`,
    `- Host scripts measured: \`${measuredHash()}\` (bench/results.ts; test/unit/benchResults.test.ts fails when they change and these rows were not measured again)`,
    `- Each figure is the median of ${b.runs} runs; everything in a row was measured in the same loop, one after the other, on the same sandbox host. The steps run as root in the sandbox, whose root has an empty home (no shell start-up files), as a non-root deploy user's would.`,
    "",
    ...rows,
    "",
    "<!-- /hardening -->",
  ].join("\n");
}

function summary(f: Figure): string {
  return Object.entries(f.runs)
    .map(([name, xs]) => `${name} ${fmt(median(xs))}`)
    .join(", ")
    .concat(`; load ${f.load[0].toFixed(1)} → ${f.load[1].toFixed(1)}`);
}
