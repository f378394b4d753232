// `npm run bench -- profile`: where a hardening step's time goes on the host. Each step (harden,
// verify, confirm) of a scenario (bench/run.ts: the first hardening of the seed's policy and of
// 200 rules, one rule changed of 200, a forced re-run) runs once on the sandbox host with bash's
// xtrace on, every traced command stamped with EPOCHREALTIME and the function it ran in; the time
// from one command to the next is that function's. Prints, and writes into bench/RESULTS.md, the
// time summed by function and the command count per step.
import * as fs from "node:fs";
import * as path from "node:path";
import type { RemoteStep } from "../test/support/host/deploy";
import { measuredHash } from "./results";

/** A traced command: when it started, the innermost function it ran in, what it was. */
export interface TraceLine {
  readonly at: number;
  readonly fn: string;
  readonly command: string;
}

export interface StepProfile {
  readonly step: string;
  /** The step end to end over SSH, as the deployer waits for it. */
  readonly wallSeconds: number;
  /** From the script's first traced command to its last: the host's share. */
  readonly hostSeconds: number;
  readonly commands: number;
  /** Seconds per function, largest first. */
  readonly byFunction: [string, number][];
}

// The first character repeats once per level of nesting (command substitutions, subshells).
const PS4 = "+ ${EPOCHREALTIME} ${FUNCNAME[0]:-main} ";
const LINE = /^\++ (\d+\.\d+) (\S+) (.*)$/;

/** The step's script with xtrace on, written to `traceFile` (appended), right after its shebang. */
export function traced(step: RemoteStep, traceFile: string): RemoteStep {
  const [shebang, ...rest] = step.stdin.split("\n");
  const on = [`exec 19>>'${traceFile}'`, "BASH_XTRACEFD=19", `PS4='${PS4}'`, "set -x"];
  return { ...step, stdin: [shebang, ...on, ...rest].join("\n") };
}

/** The trace's commands in the order they started; lines a command printed over several are skipped. */
export function parseTrace(text: string): TraceLine[] {
  const lines: TraceLine[] = [];
  for (const raw of text.split("\n")) {
    const m = LINE.exec(raw);
    if (m) lines.push({ at: Number(m[1]), fn: m[2]!, command: m[3]! });
  }
  // Pipelines and background jobs write concurrently: order by the stamp, not the write.
  return lines.sort((a, b) => a.at - b.at);
}

/** Time per function: each command's time is until the next command starts. */
export function profileOf(step: string, wallSeconds: number, lines: TraceLine[]): StepProfile {
  const sums = new Map<string, number>();
  for (let i = 0; i + 1 < lines.length; i++) {
    const { fn, at } = lines[i]!;
    sums.set(fn, (sums.get(fn) ?? 0) + (lines[i + 1]!.at - at));
  }
  return {
    step,
    wallSeconds,
    hostSeconds: lines.length ? lines.at(-1)!.at - lines[0]!.at : 0,
    commands: lines.length,
    byFunction: [...sums].sort((a, b) => b[1] - a[1]),
  };
}

/** The profile as markdown: one line per step, its top functions (those ≥ 10 ms) after it. */
export function profileBlock(profiles: StepProfile[], note: string): string {
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const rows = profiles.map((p) => {
    const top = p.byFunction.filter(([, s]) => s >= 0.01).map(([fn, s]) => `\`${fn}\` ${ms(s)}`);
    return `| ${p.step} | ${ms(p.wallSeconds)} | ${ms(p.hostSeconds)} | ${p.commands} | ${top.join(", ")} |`;
  });
  return [
    "<!-- profile -->",
    "## Profile of the hardening steps",
    "",
    `- Date: ${new Date().toISOString()}; command: \`npm run bench -- profile\` (or \`npm run bench\`)`,
    `- Host scripts measured: \`${measuredHash()}\` (bench/results.ts)`,
    `- ${note}`,
    "",
    "| Step | Over SSH | On the host (xtrace) | Commands | Time by function (≥ 10 ms; `main`: outside any function) |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "<!-- /profile -->",
  ].join("\n");
}

/** Runs each step once, traced; `run` executes a step and throws when it fails. */
export async function profileSteps(
  scenario: string,
  steps: RemoteStep[],
  traceDir: string,
  run: (step: RemoteStep) => Promise<unknown>,
): Promise<StepProfile[]> {
  const profiles: StepProfile[] = [];
  for (const step of steps) {
    const name = `${scenario}: ${step.name.replace(/^openclaw-/, "")}`;
    const file = path.join(traceDir, `trace-${profiles.length}`);
    fs.rmSync(file, { force: true });
    const start = process.hrtime.bigint();
    await run(traced(step, file));
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    profiles.push(profileOf(name, wall, parseTrace(fs.readFileSync(file, "utf8"))));
  }
  return profiles;
}
