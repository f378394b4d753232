/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export type PortParse = { ok: true; range: PortRange } | { ok: false; problem: string; accepted: string };

export const PORT_ACCEPTED =
  'a port from 1 to 65535 (e.g. 8000) or an ascending range "from-to" (e.g. "8080-8090")';

/** Parses `8000`, `"8000"` or `"8080-8090"`. */
export function parsePortRange(input: unknown): PortParse {
  let text: string;
  if (typeof input === "number") text = String(input);
  else if (typeof input === "string") text = input;
  else return { ok: false, problem: "is not a port number or range", accepted: PORT_ACCEPTED };

  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return { ok: false, problem: "is not a port number or range", accepted: PORT_ACCEPTED };
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  for (const port of [from, to]) {
    if (port < 1 || port > 65535) {
      return { ok: false, problem: `has port ${port}, outside 1-65535`, accepted: PORT_ACCEPTED };
    }
  }
  if (to < from) {
    return { ok: false, problem: `is a reversed range (${from} > ${to})`, accepted: PORT_ACCEPTED };
  }
  return { ok: true, range: { from, to } };
}

/** Sorts ranges and merges the ones that overlap or touch (8000-8001 + 8002 = 8000-8002). */
export function mergePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: PortRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to + 1) {
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    } else {
      merged.push(r);
    }
  }
  return merged;
}

export function overlaps(a: PortRange, b: PortRange): boolean {
  return a.from <= b.to && b.from <= a.to;
}

export function formatPortRange(r: PortRange, separator = "-"): string {
  return r.from === r.to ? String(r.from) : `${r.from}${separator}${r.to}`;
}
