// `npm run test:measure`: runs each suite alone, one after the other, and writes its share of the
// machine to test/suites.json for the runner's schedule (test/support/runner/schedule.ts): its wall
// time, the cores it kept busy on average (the CPU time of its whole process tree, read from
// this process's waited-for children, over its wall time) and the memory the machine gave up at
// its peak. The CPU time is the suite's own whatever else runs; the wall time and the memory are
// the machine's, so measure on a machine doing nothing else. As root (the host suites need it).
//
//   npm run test:measure [-- FILE...]   (FILE...: measure these again, keep the others)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CORES, LoadSampler, childrenCpuSeconds } from "./support/runner/machineLoad";
import { type SuiteCosts, allSuites, costsFile, loadCosts, planSuites } from "./support/runner/suites";
import { runSuite } from "./support/runner/suiteRun";

const ROOT = path.join(__dirname, "..");
/** How long the machine is watched before each suite, for what it does without it. */
const BASELINE_MS = 3000;

const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<number> {
  const files = process.argv.slice(2).map((f) => path.relative(ROOT, path.resolve(f)));
  const known = allSuites(ROOT);
  const wanted = files.length ? files : known;
  const before = loadCosts(ROOT);
  // Some suites measured again: the others keep the header that says where they were measured.
  const partial = files.length > 0 && before !== undefined;
  const today = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${CORES} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  const suites: SuiteCosts["suites"] = Object.fromEntries(
    Object.entries(before?.suites ?? {}).filter(([file]) => known.includes(file) && !wanted.includes(file)),
  );
  const sampler = new LoadSampler(500).start();
  let failed = 0;
  for (const suite of planSuites(ROOT, wanted)) {
    sampler.reset();
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const idle = sampler.meanBusyCores;
    if (idle > 0.3) console.log(`# ${suite.file}: the machine was busy before it (${idle.toFixed(2)} cores)`);
    sampler.reset();
    const cpuBefore = childrenCpuSeconds();
    const { result } = await runSuite(ROOT, suite);
    const cpu = childrenCpuSeconds() - cpuBefore;
    const cost = {
      seconds: round2(result.seconds),
      cores: round2(Math.max(0.05, cpu / result.seconds)),
      memoryMiB: Math.round(Math.max(0, sampler.peakMemoryMiB)),
      // Measured apart from the others: the header's date and machine are not this one's.
      ...(partial ? { measuredOn: `${today}, ${machine}` } : {}),
    };
    if (result.failed) failed++;
    suites[suite.file] = cost;
    console.log(
      `# ${suite.file}: ${result.failed ? "FAILED, " : ""}${cost.seconds} s, ${cost.cores} cores, ${cost.memoryMiB} MiB`,
    );
  }
  sampler.stop();
  const costs: SuiteCosts = {
    measured: partial ? before.measured : { date: today, machine, command: "npm run test:measure" },
    suites: Object.fromEntries(Object.entries(suites).sort(([a], [b]) => a.localeCompare(b))),
  };
  fs.writeFileSync(costsFile(ROOT), JSON.stringify(costs, null, 2) + "\n");
  console.log(`# wrote ${path.relative(ROOT, costsFile(ROOT))}${failed ? `; ${failed} suites failed` : ""}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
