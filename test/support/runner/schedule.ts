// Which test suite the runner (test/run.ts) starts next. Each suite has a share of the machine
// measured by `npm run test:measure` (test/suites.json): the cores it keeps busy on average and
// the memory it holds at its peak, when it runs alone. Suites start longest first, and only
// while the machine has room for the next one's share, by both the plan (the shares of what
// runs) and the machine's own measure (the cores busy now, other load included), so the load
// stays near the core count however many suites there are and whatever else the machine runs.

export interface SuiteCost {
  /** Wall time when run alone. */
  readonly seconds: number;
  /** CPU time over wall time when run alone: the cores it keeps busy on average. */
  readonly cores: number;
  /** The machine's memory in use above its idle level, at the suite's peak. */
  readonly memoryMiB: number;
}

export interface Suite {
  readonly file: string;
  readonly cost: SuiteCost;
  /** False when test/suites.json has no measure for the file and a default stands in. */
  readonly measured: boolean;
}

export interface Machine {
  readonly cores: number;
  /** The cores busy now (all processes, ours included). */
  readonly busyCores: number;
  /** Memory the machine can still give, less what it keeps in reserve. */
  readonly availableMiB: number;
}

/** What an unmeasured suite is taken to cost: a host suite a core, anything else half of one. */
export function defaultCost(file: string): SuiteCost {
  return file.includes("/host/")
    ? { seconds: 120, cores: 1, memoryMiB: 512 }
    : { seconds: 10, cores: 0.5, memoryMiB: 256 };
}

/** How far past the core count a start may take the plan: shares are averages, not limits. */
export const SLACK_CORES = 0.25;

/** Longest first, so the long suites overlap the short ones instead of trailing them. */
export function queueOrder(suites: readonly Suite[]): Suite[] {
  return [...suites].sort((a, b) => b.cost.seconds - a.cost.seconds || a.file.localeCompare(b.file));
}

/**
 * The head of `queue` if it may start beside `running` on `machine`, else undefined. With nothing
 * running it always may, so a suite larger than the machine still runs (alone). The head waits
 * for room rather than letting smaller suites pass it, so no suite starves.
 */
export function nextToStart(
  queue: readonly Suite[],
  running: readonly Suite[],
  machine: Machine,
): Suite | undefined {
  const head = queue[0];
  if (!head || running.length === 0) return head;
  const planned = running.reduce((n, s) => n + s.cost.cores, 0);
  const load = Math.max(planned, machine.busyCores);
  if (load + head.cost.cores > machine.cores + SLACK_CORES) return undefined;
  if (head.cost.memoryMiB > machine.availableMiB) return undefined;
  return head;
}
