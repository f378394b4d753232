// `npm test`: every suite (test/unit, test/component, test/host), each in its own process through
// node's test runner, started by the schedule in test/support/runner/schedule.ts: longest first, while
// the machine has room for the next suite's measured share (test/suites.json). Each suite's report
// is printed whole when it ends, then a summary: the tests, the time, the machine's load, and the
// probe rounds the host suites voided (test/support/host/verdicts.ts).
//
//   npm test [-- FILE...] [-- --test-name-pattern=REGEX]
import * as path from "node:path";
import { CORES, LoadSampler, availableMiB } from "./support/runner/machineLoad";
import { type Suite, nextToStart, queueOrder } from "./support/runner/schedule";
import { failureLines, fmtSeconds } from "./support/runner/report";
import { SUITE_DIRS, allSuites, planSuites } from "./support/runner/suites";
import { type SuiteResult, runSuite } from "./support/runner/suiteRun";

const ROOT = path.join(__dirname, "..");
/** Memory the machine keeps for itself and the runner, whatever the suites' shares say. */
const RESERVE_MIB = 1024;

function parseArgs(argv: string[]): { files: string[]; namePatterns: string[] } {
  const files: string[] = [];
  const namePatterns: string[] = [];
  for (const arg of argv) {
    const pattern = /^--test-name-pattern=(.+)$/.exec(arg);
    if (pattern) namePatterns.push(pattern[1]!);
    else if (arg.startsWith("-"))
      throw new Error(`unknown option ${arg}: FILE... or --test-name-pattern=REGEX`);
    else files.push(path.relative(ROOT, path.resolve(arg)));
  }
  return { files, namePatterns };
}

async function main(): Promise<number> {
  const { files, namePatterns } = parseArgs(process.argv.slice(2));
  const known = allSuites(ROOT);
  const unknown = files.filter((f) => !known.includes(f));
  if (unknown.length)
    throw new Error(`not a suite: ${unknown.join(", ")} (suites are ${SUITE_DIRS.join(", ")}/*.test.ts)`);
  const suites = planSuites(ROOT, files.length ? files : known);
  const unmeasured = suites.filter((s) => !s.measured).map((s) => s.file);
  if (unmeasured.length) {
    console.log(
      `# not in test/suites.json, taken at the default share (npm run test:measure): ${unmeasured.join(", ")}`,
    );
  }

  const load = new LoadSampler().start();
  const started = Date.now();
  const queue = queueOrder(suites);
  const running = new Set<Suite>();
  const results: SuiteResult[] = [];
  await new Promise<void>((done) => {
    const tick = () => {
      for (;;) {
        const next = nextToStart(queue, [...running], {
          cores: CORES,
          busyCores: load.busyCores,
          availableMiB: availableMiB() - RESERVE_MIB,
        });
        if (!next) break;
        queue.shift();
        running.add(next);
        console.log(
          `# start ${next.file} (share ${next.cost.cores.toFixed(2)} cores; ${running.size} running)`,
        );
        void runSuite(ROOT, next, namePatterns).then(({ result, report }) => {
          running.delete(next);
          results.push(result);
          process.stdout.write(`\n# ${next.file}\n${report}`);
          console.log(
            `# ${next.file}: ${result.failed ? `${result.failed} FAILED of ` : ""}${result.tests} tests in ${fmtSeconds(result.seconds)}`,
          );
          if (queue.length === 0 && running.size === 0) done();
          else tick();
        });
      }
    };
    const poll = setInterval(tick, 1000);
    poll.unref();
    tick();
    if (queue.length === 0 && running.size === 0) done();
  });
  load.stop();

  const sum = (key: "tests" | "failed" | "skipped" | "probeRounds" | "voidRounds") =>
    results.reduce((n, r) => n + r[key], 0);
  console.log("\n# summary");
  for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) {
    console.log(
      `#   ${r.failed ? "FAIL" : "ok  "} ${fmtSeconds(r.seconds).padStart(12)}  ${r.suite.file}` +
        (r.voidRounds ? ` (${r.voidRounds} of ${r.probeRounds} probe rounds void)` : ""),
    );
  }
  console.log(
    `# ${sum("tests")} tests in ${results.length} suites, ${sum("failed")} failed, ${sum("skipped")} skipped, ` +
      `in ${fmtSeconds((Date.now() - started) / 1000)} on ${CORES} cores ` +
      `(mean ${load.meanBusyCores.toFixed(2)} busy, peak load average ${load.peakLoadAverage.toFixed(1)})`,
  );
  console.log(`# probe rounds: ${sum("probeRounds")}, void: ${sum("voidRounds")}`);
  // Repeated last, where a CI log's tail shows it: which tests failed and what they said.
  for (const r of results) {
    for (const f of r.failures) console.log(`\n${failureLines(r.suite.file, f.name, f.error)}`);
  }
  return sum("failed") > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
