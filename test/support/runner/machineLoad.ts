// The machine's own measure of its load, from /proc: the cores busy over the last interval and
// the memory still available. Read by the test runner (test/run.ts), which starts a suite only
// while there is room, and by `npm run test:measure`, which measures each suite's share.
import * as fs from "node:fs";
import * as os from "node:os";

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  // "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks, all cores summed.
  const fields = fs
    .readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: total - idle, total };
}

/** MemAvailable, in MiB: what the kernel can give without swapping. */
export function availableMiB(): number {
  const line = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/meminfo", "utf8"));
  return line ? Number(line[1]) / 1024 : os.freemem() / 2 ** 20;
}

/** The machine's logical cores, as the scheduler counts them. */
export const CORES = os.availableParallelism();

/** Clock ticks per second, as /proc counts CPU time (sysconf(_SC_CLK_TCK), 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds used by this process's children that have ended and been waited for, and by
 * theirs in turn (cutime + cstime in /proc/self/stat): a finished suite's whole process tree,
 * the booted hosts' systemd and everything under it included, whatever else the machine ran.
 */
export function childrenCpuSeconds(): number {
  // Fields after the command's closing parenthesis; cutime and cstime are fields 16 and 17.
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/**
 * Samples the machine every `intervalMs`: `busyCores` is the cores busy over the last interval,
 * `peak*` and `mean*` cover every interval since start() or reset(). stop() ends the sampling.
 */
export class LoadSampler {
  busyCores = 0;
  private last = cpuTimes();
  private samples: number[] = [];
  private memoryBase = availableMiB();
  peakMemoryMiB = 0;
  peakLoadAverage = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 1000) {}

  start(): this {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Starts the measures afresh; the memory in use now becomes the baseline. */
  reset(): void {
    this.samples = [];
    this.last = cpuTimes();
    this.memoryBase = availableMiB();
    this.peakMemoryMiB = 0;
    this.peakLoadAverage = 0;
  }

  private sample(): void {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    this.busyCores = total > 0 ? ((now.busy - this.last.busy) / total) * CORES : 0;
    this.last = now;
    this.samples.push(this.busyCores);
    this.peakMemoryMiB = Math.max(this.peakMemoryMiB, this.memoryBase - availableMiB());
    this.peakLoadAverage = Math.max(this.peakLoadAverage, os.loadavg()[0]!);
  }

  /** The mean of the busy cores sampled since start() or reset(). */
  get meanBusyCores(): number {
    return this.samples.length ? this.samples.reduce((a, b) => a + b, 0) / this.samples.length : 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
