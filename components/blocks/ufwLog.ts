// Reads the lines UFW's logging rules leave in a log: the kernel's LOG format (IN=… SRC=…
// DPT=…) behind a UFW prefix, behind a syslog or journal timestamp. Pure: no I/O.

/** What UFW's prefix says happened: `[UFW BLOCK]`, `[UFW LIMIT BLOCK]`, `[UFW ALLOW]`, ... */
export type UfwAction = string;

/** Which way the packet was going: to the host, from it, or through it (Docker, a router). */
export type Direction = "in" | "out" | "forward";

/** One packet UFW logged. */
export interface UfwLogEntry {
  /** The host's wall-clock time as the log wrote it, `YYYY-MM-DDTHH:MM:SS`. */
  readonly time: string;
  /** The UTC offset (`+01:00`) when the line carried one; syslog's classic format does not. */
  readonly offset?: string;
  /** The words inside UFW's prefix, e.g. `BLOCK` or `LIMIT BLOCK`. */
  readonly action: UfwAction;
  readonly direction: Direction;
  readonly src: string;
  readonly dst: string;
  /** Lower case, as the kernel names it (`tcp`, `udp`, `icmp`, `icmpv6`) or its number. */
  readonly protocol: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

export interface ParsedLog {
  readonly entries: UfwLogEntry[];
  /** Lines that carry a UFW prefix but could not be read: shown, never silently dropped. */
  readonly unreadable: string[];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// rsyslog's classic format (and ulogd's): `Nov 24 22:00:01 host ...`, local time, no year.
const CLASSIC = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}:\d{2}:\d{2}) /;
// RFC 3339 (rsyslog on Ubuntu 24.04) and journalctl -o short-iso: `2026-11-24T22:00:01.5+00:00`.
const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})? /;
const PREFIX = /\[UFW ([A-Z]+(?: [A-Z]+)*)\]/;
const FIELD = /(?:^| )([A-Z]+)=(\S*)/g;

/**
 * Parses a log's lines. `now` is the host's wall clock (`YYYY-MM-DDTHH:MM:SS`): classic syslog
 * lines carry no year, so each gets the latest year that does not put it in the future.
 * Lines without a UFW prefix (other kernel messages in the journal) are skipped.
 */
export function parseUfwLog(lines: readonly string[], now: string): ParsedLog {
  const entries: UfwLogEntry[] = [];
  const unreadable: string[] = [];
  for (const line of lines) {
    const prefix = PREFIX.exec(line);
    if (!prefix) continue;
    const entry = parseLine(line, prefix, now);
    if (entry) entries.push(entry);
    else unreadable.push(line);
  }
  return { entries, unreadable };
}

function parseLine(line: string, prefix: RegExpExecArray, now: string): UfwLogEntry | undefined {
  const stamp = timestamp(line, now);
  if (!stamp) return undefined;
  // The first occurrence of each field wins: a UDP line has the IP length and then its own LEN.
  const fields = new Map<string, string>();
  for (const [, name, value] of line.slice(prefix.index + prefix[0].length).matchAll(FIELD)) {
    if (!fields.has(name!)) fields.set(name!, value!);
  }
  const src = fields.get("SRC");
  const dst = fields.get("DST");
  const protocol = fields.get("PROTO");
  const inIf = fields.get("IN");
  const outIf = fields.get("OUT");
  if (!src || !dst || !protocol || inIf === undefined || outIf === undefined || (!inIf && !outIf)) {
    return undefined;
  }
  const port = (name: string) => {
    const v = fields.get(name);
    return v !== undefined && /^\d{1,5}$/.test(v) ? Number(v) : undefined;
  };
  const srcPort = port("SPT");
  const dstPort = port("DPT");
  return {
    ...stamp,
    action: prefix[1]!,
    direction: inIf && outIf ? "forward" : inIf ? "in" : "out",
    src,
    dst,
    protocol: protocol.toLowerCase(),
    ...(srcPort === undefined ? {} : { srcPort }),
    ...(dstPort === undefined ? {} : { dstPort }),
  };
}

function timestamp(line: string, now: string): { time: string; offset?: string } | undefined {
  const iso = ISO.exec(line);
  if (iso) {
    const zone = iso[3];
    const offset =
      zone === undefined ? undefined : zone === "Z" ? "+00:00" : zone.replace(/^(.\d{2}):?/, "$1:");
    return { time: `${iso[1]}T${iso[2]}`, ...(offset === undefined ? {} : { offset }) };
  }
  const classic = CLASSIC.exec(line);
  if (!classic) return undefined;
  const month = MONTHS.indexOf(classic[1]!) + 1;
  if (month === 0) return undefined;
  const monthDay = `${String(month).padStart(2, "0")}-${classic[2]!.padStart(2, "0")}T${classic[3]}`;
  const year = Number(now.slice(0, 4));
  // December's lines read on the 1st of January belong to last year. A day of slack allows
  // for a host clock that is a little behind the log's.
  const candidate = `${year}-${monthDay}`;
  return { time: candidate > plusOneDay(now) ? `${year - 1}-${monthDay}` : candidate };
}

function plusOneDay(wallClock: string): string {
  const t = new Date(`${wallClock.slice(0, 19)}Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 19);
}
