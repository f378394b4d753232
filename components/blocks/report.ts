// `npm run blocks`: blocked packets from UFW's log, grouped by hour, source and destination
// port, busiest first; as a table for people and as JSON for scripts. Pure: no I/O.
import type { Direction, UfwLogEntry } from "./ufwLog";

/** UFW's prefixes for a packet it refused: the default policy or a deny rule, and `ufw limit`. */
export const BLOCK_ACTIONS = ["BLOCK", "LIMIT BLOCK"] as const;

export interface BlockGroup {
  /** The hour as the host's wall clock, `YYYY-MM-DDTHH:00`, with its UTC offset when known. */
  readonly hour: string;
  readonly direction: Direction;
  readonly source: string;
  readonly protocol: string;
  /** The destination port, or undefined for protocols without ports (ICMP). */
  readonly port?: number;
  /** `block` (default policy or a deny rule) or `limit` (over `ufw limit`'s rate). */
  readonly rule: "block" | "limit";
  /** The addresses the packets were sent to, sorted: the host's own, or the outside world's. */
  readonly destinations: string[];
  /** Distinct connection attempts: a TCP SYN and its retransmissions share a source port. */
  readonly attempts: number;
  /** Logged packets. */
  readonly packets: number;
}

export interface BlocksReport {
  readonly groups: BlockGroup[];
  readonly packets: number;
  readonly attempts: number;
  /** The first and last logged block in the window, as the host's wall clock. */
  readonly first?: string;
  readonly last?: string;
}

/**
 * Groups the blocked packets logged at or after `since` (the host's wall clock). Busiest first:
 * most packets, then most attempts, then the latest hour; ties are broken by source and port
 * so the same log always gives the same report.
 */
export function summariseBlocks(entries: readonly UfwLogEntry[], since: string): BlocksReport {
  // Per group: what identifies it, and the packets, attempts and destinations seen so far.
  type Tally = {
    key: Omit<BlockGroup, "destinations" | "attempts" | "packets">;
    packets: number;
    attempts: Set<string>;
    dst: Set<string>;
  };
  const tallies = new Map<string, Tally>();
  let first: string | undefined;
  let last: string | undefined;
  let packets = 0;
  for (const e of entries) {
    if (!(BLOCK_ACTIONS as readonly string[]).includes(e.action) || e.time < since) continue;
    packets++;
    if (first === undefined || e.time < first) first = e.time;
    if (last === undefined || e.time > last) last = e.time;
    const key = {
      hour: `${e.time.slice(0, 13)}:00${e.offset ?? ""}`,
      direction: e.direction,
      source: e.src,
      protocol: e.protocol,
      ...(e.dstPort === undefined ? {} : { port: e.dstPort }),
      rule: e.action === "LIMIT BLOCK" ? ("limit" as const) : ("block" as const),
    };
    const id = [key.hour, key.direction, key.source, key.protocol, key.port ?? "", key.rule].join(" ");
    let t = tallies.get(id);
    if (!t) tallies.set(id, (t = { key, packets: 0, attempts: new Set(), dst: new Set() }));
    t.packets++;
    t.dst.add(e.dst);
    // Without ports (ICMP), every packet is its own attempt.
    t.attempts.add(e.srcPort === undefined ? `#${t.packets}` : `${e.dst} ${e.srcPort}`);
  }
  const list: BlockGroup[] = [...tallies.values()].map((t) => ({
    ...t.key,
    destinations: [...t.dst].sort(),
    attempts: t.attempts.size,
    packets: t.packets,
  }));
  list.sort(
    (a, b) =>
      b.packets - a.packets ||
      b.attempts - a.attempts ||
      compare(instant(b.hour), instant(a.hour)) ||
      compare(a.source, b.source) ||
      (a.port ?? -1) - (b.port ?? -1) ||
      compare(a.protocol, b.protocol) ||
      compare(a.direction, b.direction) ||
      compare(a.rule, b.rule),
  );
  return {
    groups: list,
    packets,
    attempts: list.reduce((n, g) => n + g.attempts, 0),
    ...(first === undefined ? {} : { first }),
    ...(last === undefined ? {} : { last }),
  };
}

/** An hour with an offset as UTC, so 22:00+01:00 sorts before 22:00+00:00; else as written. */
function instant(hour: string): string {
  return /[+-]\d{2}:\d{2}$/.test(hour) ? new Date(hour).toISOString() : hour;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where the lines came from and what the host said about them, for the report's header. */
export interface ReportContext {
  readonly stack: string;
  /** user@host as connected to. */
  readonly host: string;
  /** Files read, or `journal`. */
  readonly sources: readonly string[];
  readonly since: string;
  /** The host's clock when it was read, with its UTC offset. */
  readonly now: string;
  /** UFW's LOGLEVEL on the host: `off` means nothing is logged. */
  readonly logging: string;
  /** Lines with a UFW prefix that could not be read. */
  readonly unreadable: readonly string[];
}

const MAX_DESTINATIONS = 2;

/** The report as a table, with the caveats an operator needs to read its numbers right. */
export function renderBlocksText(report: BlocksReport, ctx: ReportContext): string {
  const out: string[] = [
    `Blocked traffic on ${ctx.host} (stack ${ctx.stack}), ${wall(ctx.since)} to ${wall(ctx.now.slice(0, 19))} host time (UTC${ctx.now.slice(19)})`,
    // The host names the journal, or the log files written since the window began: none is a
    // log that has been quiet for longer than the window.
    ctx.sources.length
      ? `Read from ${ctx.sources.join(", ")}.`
      : "Read nothing: no UFW log file was written to in this window.",
  ];
  if (ctx.logging === "off") {
    out.push("UFW logging is off on this host, so nothing is logged. Set openclaw:firewall.logging.");
  }
  if (report.groups.length === 0) {
    out.push("", "No blocked packets were logged in this window.");
  } else {
    out.push(
      `${report.packets} blocked packet${report.packets === 1 ? "" : "s"} (${report.attempts} attempt${report.attempts === 1 ? "" : "s"}) in ${report.groups.length} group${report.groups.length === 1 ? "" : "s"}, ${wall(report.first!)} to ${wall(report.last!)}.`,
      "",
      ...table(report.groups),
    );
  }
  out.push(
    "",
    "UFW rate-limits its own logging (per logging rule: a burst of 10, 5 for limit, then 3 a",
    "minute), so busy sources log fewer packets than they sent. DIR in: to this host; out: from",
    "it; forward: through it (Docker). An attempt is one source port; a TCP client's retries",
    "share one.",
  );
  if (ctx.unreadable.length) {
    out.push("", `${ctx.unreadable.length} UFW line(s) could not be read, e.g.:`, `  ${ctx.unreadable[0]}`);
  }
  return `${out.join("\n")}\n`;
}

function table(groups: readonly BlockGroup[]): string[] {
  const rows = [
    ["HOUR", "DIR", "SOURCE", "PORT", "RULE", "ATTEMPTS", "PACKETS", "TO"],
    ...groups.map((g) => [
      wall(g.hour),
      g.direction,
      g.source,
      g.port === undefined ? g.protocol : `${g.port}/${g.protocol}`,
      g.rule,
      String(g.attempts),
      String(g.packets),
      g.destinations.length > MAX_DESTINATIONS
        ? `${g.destinations.slice(0, MAX_DESTINATIONS).join(", ")} +${g.destinations.length - MAX_DESTINATIONS} more`
        : g.destinations.join(", "),
    ]),
  ];
  const numeric = new Set([5, 6]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) =>
        i === r.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join("  "),
  );
}

/** `2026-11-24T22:00:01+01:00` as `2026-11-24 22:00:01 +01:00`: easier to scan in a table. */
function wall(time: string): string {
  return time.replace("T", " ").replace(/([+-]\d{2}:\d{2})$/, " $1");
}

/** The report for scripts: every group with all its destinations, and the same context. */
export function renderBlocksJson(report: BlocksReport, ctx: ReportContext): string {
  return `${JSON.stringify(
    {
      stack: ctx.stack,
      host: ctx.host,
      sources: ctx.sources,
      since: ctx.since,
      hostTime: ctx.now,
      logging: ctx.logging,
      packets: report.packets,
      attempts: report.attempts,
      first: report.first ?? null,
      last: report.last ?? null,
      groups: report.groups.map((g) => ({ ...g, port: g.port ?? null })),
      unreadable: ctx.unreadable,
    },
    null,
    2,
  )}\n`;
}
