// One test suite (a test file) run in its own process through node's test runner, with its
// report whole and the counts the runner sums: tests, failures, skips, and the probe rounds the
// host suites report (test/support/host/hostTest.ts, reportProbeRounds).
import { run } from "node:test";
import { spec } from "node:test/reporters";
import * as path from "node:path";
import { failureText } from "./report";
import type { Suite } from "./schedule";

export interface SuiteResult {
  readonly suite: Suite;
  readonly seconds: number;
  readonly tests: number;
  readonly failed: number;
  readonly skipped: number;
  readonly probeRounds: number;
  readonly voidRounds: number;
  /** Each failed test's name and the first lines of its error, for the runner's summary. */
  readonly failures: readonly Failure[];
}

export interface Failure {
  readonly name: string;
  readonly error: string;
}

/** Runs `suite` (its file relative to `root`); resolves with its report once it has ended. */
export async function runSuite(
  root: string,
  suite: Suite,
  namePatterns: string[] = [],
): Promise<{ result: SuiteResult; report: string }> {
  const started = Date.now();
  const stream = run({
    files: [path.join(root, suite.file)],
    ...(namePatterns.length ? { testNamePatterns: namePatterns } : {}),
  });
  let tests = 0;
  let failed = 0;
  let skipped = 0;
  let probeRounds = 0;
  let voidRounds = 0;
  const failures: Failure[] = [];
  stream.on("test:pass", (t) => {
    if (t.details.type === "suite") return;
    tests++;
    if (t.skip !== undefined || t.todo !== undefined) skipped++;
  });
  stream.on("test:fail", (t) => {
    // A suite (a describe, or the file) fails with its tests, which are counted; a file that
    // could not load fails as a test of its own.
    const cause = (t.details.error as { failureType?: string } | undefined)?.failureType;
    if (cause === "subtestsFailed" || (t.details.type === "suite" && t.nesting > 0)) return;
    tests++;
    failed++;
    failures.push({ name: t.name, error: failureText(t.details.error) });
  });
  stream.on("test:diagnostic", (d) => {
    const m = /^probe rounds: (\d+), void: (\d+)$/.exec(d.message);
    if (m) {
      probeRounds += Number(m[1]);
      voidRounds += Number(m[2]);
    }
  });
  let report = "";
  for await (const chunk of stream.compose(new spec())) report += String(chunk);
  const seconds = (Date.now() - started) / 1000;
  return { result: { suite, seconds, tests, failed, skipped, probeRounds, voidRounds, failures }, report };
}
