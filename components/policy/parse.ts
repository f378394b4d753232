import { type Cidr, compareCidrs, contains, coversFamily, isPrivate, isWorld, parseCidr } from "./cidr";
import { Findings, type PolicyWarning } from "./errors";
import { closestName } from "./suggest";
import {
  PORT_ACCEPTED,
  type PortRange,
  formatPortRange,
  mergePortRanges,
  overlaps,
  parsePortRange,
} from "./ports";
import {
  type FirewallPolicy,
  LOGGING_LEVELS,
  type OutboundRule,
  OutgoingPolicy,
  PROTOCOLS,
  type Protocol,
  type Service,
} from "./types";

export interface ParseContext {
  /** Prefix for every key in messages, e.g. `openclaw:firewall`. */
  readonly key: string;
  /** The host has a public address (a cloud VM): private sources then deserve a warning. */
  readonly hostHasPublicAddress: boolean;
}

export interface ParsedPolicy {
  readonly policy: FirewallPolicy;
  readonly warnings: readonly PolicyWarning[];
}

export const DEFAULT_CONTEXT: ParseContext = { key: "openclaw:firewall", hostHasPublicAddress: true };

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const NAME_ACCEPTED = "1-48 characters: letters, digits, '.', '_' and '-', starting with a letter or digit";
const DESCRIPTION_PATTERN = /^[A-Za-z0-9 ._,:/@+=-]{0,200}$/;
const DESCRIPTION_ACCEPTED = "up to 200 characters: letters, digits, spaces and . _ , : / @ + = -";
const SHELL_CHARACTERS = /[;$`'"\\\n\r|&<>(){}*?!#~]/;

const TOP_KEYS = ["ssh", "services", "logging", "ipv6", "outgoing"];
const SSH_KEYS = ["port", "adminCidrs", "rateLimit"];
const SERVICE_KEYS = [
  "name",
  "description",
  "port",
  "ports",
  "portRanges",
  "protocol",
  "sources",
  "rateLimit",
  "public",
];
const OUTGOING_KEYS = ["policy", "allow"];
const OUTBOUND_KEYS = ["name", "description", "port", "ports", "portRanges", "protocol", "destinations"];

/**
 * Validates and normalises the declared firewall config. Throws a `PolicyError` listing every
 * problem; returns the normalised policy and the warnings otherwise. Pure: no I/O, no Pulumi.
 */
export function parsePolicy(raw: unknown, context: ParseContext = DEFAULT_CONTEXT): ParsedPolicy {
  const f = new Findings();
  const root = context.key;
  const config = record(f, root, raw, TOP_KEYS) ?? {};

  const ipv6 = bool(f, `${root}.ipv6`, config["ipv6"], true);
  const logging = oneOf(f, `${root}.logging`, config["logging"], LOGGING_LEVELS, "medium");
  const ssh = parseSsh(f, `${root}.ssh`, config["ssh"], ipv6);
  const services = list(f, `${root}.services`, config["services"]).map((item, i) =>
    parseService(f, `${root}.services[${i}]`, item, ipv6),
  );
  const outgoing = parseOutgoing(f, `${root}.outgoing`, config["outgoing"], ipv6);

  checkNames(f, root, services);
  checkPortOwnership(f, root, ssh, services);
  const valid = services.filter((s): s is Service => s !== undefined);
  if (ssh) warnAboutSsh(f, `${root}.ssh`, ssh);
  if (context.hostHasPublicAddress) {
    [ssh, ...services].forEach((s, i) => {
      if (!s) return;
      const key = i === 0 ? `${root}.ssh.adminCidrs` : `${root}.services[${i - 1}].sources`;
      for (const c of s.sources.filter(isPrivate)) {
        f.warn(
          key,
          `${c.text} is a private or unique-local range, but the host has a public address: ` +
            `only traffic over a private network or VPN can come from it`,
        );
      }
    });
  }

  f.throwIfFailed();
  const policy: FirewallPolicy = {
    ssh: ssh as Service,
    services: valid.sort((a, b) => compareText(a.name, b.name)),
    logging,
    ipv6,
    outgoing,
  };
  return { policy, warnings: f.warnings };
}

function parseSsh(f: Findings, key: string, raw: unknown, ipv6: boolean): Service | undefined {
  if (raw === undefined) {
    f.fail(key, raw, "is required (SSH is how the host is hardened)", "an object with port and adminCidrs");
    return undefined;
  }
  const ssh = record(f, key, raw, SSH_KEYS);
  if (!ssh) return undefined;
  const port = singlePort(f, `${key}.port`, ssh["port"] ?? 22);
  const adminCidrs = ssh["adminCidrs"];
  if (!Array.isArray(adminCidrs) || adminCidrs.length === 0) {
    f.fail(
      `${key}.adminCidrs`,
      adminCidrs,
      "must list at least one network: with none, nobody can reach SSH and the host is locked out",
      'a non-empty list of CIDRs, e.g. ["203.0.113.50/32"]',
    );
    return undefined;
  }
  const sources = parseSources(f, `${key}.adminCidrs`, adminCidrs, ipv6, true);
  if (sources) checkBreadth(f, `${key}.adminCidrs`, adminCidrs, sources, true);
  const rateLimit = bool(f, `${key}.rateLimit`, ssh["rateLimit"], false);
  if (port === undefined || sources === undefined) return undefined;
  return { name: "ssh", description: "SSH", protocol: "tcp", ports: [port], sources, rateLimit };
}

function parseService(f: Findings, key: string, raw: unknown, ipv6: boolean): Service | undefined {
  const s = record(f, key, raw, SERVICE_KEYS);
  if (!s) return undefined;
  const name = parseName(f, `${key}.name`, s["name"]);
  const description = parseDescription(f, `${key}.description`, s["description"]);
  const ports = parsePorts(f, key, s["port"], s["ports"], s["portRanges"]);
  const protocol = oneOf<Protocol>(f, `${key}.protocol`, s["protocol"], PROTOCOLS, "tcp");
  const isPublic = bool(f, `${key}.public`, s["public"], false);
  const rateLimit = bool(f, `${key}.rateLimit`, s["rateLimit"], false);
  const rawSources = s["sources"];
  if (!Array.isArray(rawSources) || rawSources.length === 0) {
    f.fail(
      `${key}.sources`,
      rawSources,
      "must list at least one trusted source; a service nobody may reach should be removed",
      'a non-empty list of CIDRs, e.g. ["192.168.1.0/24"], or ["0.0.0.0/0", "::/0"] with public: true',
    );
    return undefined;
  }
  const sources = parseSources(f, `${key}.sources`, rawSources, ipv6, isPublic);
  if (sources) checkBreadth(f, `${key}.sources`, rawSources, sources, isPublic);
  if (name === undefined || ports === undefined || sources === undefined) return undefined;
  return { name, description: description ?? name, protocol, ports, sources, rateLimit };
}

function parseOutgoing(f: Findings, key: string, raw: unknown, ipv6: boolean): FirewallPolicy["outgoing"] {
  if (raw === undefined) return { policy: "allow" };
  const o = record(f, key, raw, OUTGOING_KEYS) ?? {};
  const policy = oneOf(f, `${key}.policy`, o["policy"], Object.values(OutgoingPolicy), "allow");
  const items = list(f, `${key}.allow`, o["allow"]);
  if (policy === "allow") {
    if (items.length > 0) {
      f.fail(
        `${key}.allow`,
        o["allow"],
        "is only used with outgoing.policy: deny",
        "remove it, or set policy: deny",
      );
    }
    return { policy };
  }
  const parsed = items.map((item, i) => parseOutbound(f, `${key}.allow[${i}]`, item, ipv6));
  const allow = parsed.filter((r): r is OutboundRule => r !== undefined);
  checkNames(f, key, allow, "allow");
  checkOutboundRepeats(f, key, parsed);
  return { policy, allow: allow.sort((a, b) => compareText(a.name, b.name)) };
}

function parseOutbound(f: Findings, key: string, raw: unknown, ipv6: boolean): OutboundRule | undefined {
  const o = record(f, key, raw, OUTBOUND_KEYS);
  if (!o) return undefined;
  const name = parseName(f, `${key}.name`, o["name"]);
  const description = parseDescription(f, `${key}.description`, o["description"]);
  const ports = parsePorts(f, key, o["port"], o["ports"], o["portRanges"]);
  const protocol = oneOf<Protocol>(f, `${key}.protocol`, o["protocol"], PROTOCOLS, "tcp");
  const raws = o["destinations"];
  if (!Array.isArray(raws) || raws.length === 0) {
    f.fail(
      `${key}.destinations`,
      raws,
      "must list at least one destination",
      'a non-empty list of CIDRs, e.g. ["0.0.0.0/0"]',
    );
    return undefined;
  }
  const destinations = parseSources(f, `${key}.destinations`, raws, ipv6, true);
  if (name === undefined || ports === undefined || destinations === undefined) return undefined;
  return { name, description: description ?? name, protocol, ports, destinations };
}

/**
 * Parses, deduplicates and collapses a list of CIDRs. A network inside another one on the
 * same list adds nothing and is dropped with a warning.
 */
function parseSources(
  f: Findings,
  key: string,
  raws: unknown[],
  ipv6: boolean,
  worldAllowed: boolean,
): Cidr[] | undefined {
  const parsed: { cidr: Cidr; index: number }[] = [];
  let failed = false;
  raws.forEach((raw, index) => {
    const itemKey = `${key}[${index}]`;
    const result = parseCidr(raw);
    if (!result.ok) {
      f.fail(itemKey, raw, result.problem, result.accepted);
      failed = true;
      return;
    }
    const c = result.cidr;
    if (c.family === 6 && !ipv6) {
      f.fail(itemKey, raw, "is IPv6, but firewall.ipv6 is false", "an IPv4 network, or set ipv6: true");
      failed = true;
    } else if (isWorld(c) && !worldAllowed) {
      f.fail(
        itemKey,
        raw,
        "opens the service to the whole internet without public: true",
        "a narrower network, or set public: true on the service to open it to everyone",
      );
      failed = true;
    } else {
      parsed.push({ cidr: c, index });
    }
  });
  if (failed) return undefined;

  const sorted = [...parsed].sort((a, b) => compareCidrs(a.cidr, b.cidr) || a.index - b.index);
  const kept: Cidr[] = [];
  for (const { cidr: c, index } of sorted) {
    const outer = kept.find((k) => contains(k, c));
    if (outer) {
      f.warn(
        `${key}[${index}]`,
        outer.text === c.text
          ? `${c.text} is listed more than once; the duplicate is ignored`
          : `${c.text} is inside ${outer.text} on the same list and is ignored`,
      );
    } else {
      kept.push(c);
    }
  }
  return kept;
}

/** Narrower than this is fine; wider (but short of the whole family) gets a warning. */
const BROAD_PREFIX = { 4: 8, 6: 32 } as const;

/**
 * The world guard for a whole list of sources: networks that together hold every address of a
 * family open the service to everyone, as surely as 0.0.0.0/0 or ::/0 does, so they need
 * public: true too. Very broad networks short of that are warned about.
 */
function checkBreadth(
  f: Findings,
  key: string,
  raws: unknown[],
  sources: readonly Cidr[],
  worldAllowed: boolean,
): void {
  const whole = ([4, 6] as const).filter((family) => coversFamily(sources, family));
  for (const family of whole) {
    if (worldAllowed) continue;
    const parts = sources.filter((c) => c.family === family).map((c) => c.text);
    f.fail(
      key,
      raws,
      `together cover every IPv${family} address (${parts.join(" + ")}), which opens the service to the whole internet without public: true`,
      "networks that leave out part of the address space, or set public: true on the service to open it to everyone",
    );
  }
  for (const c of sources) {
    if (whole.includes(c.family) || c.prefix >= BROAD_PREFIX[c.family]) continue;
    const index = raws.findIndex((raw) => {
      const parsed = parseCidr(raw);
      return parsed.ok && parsed.cidr.text === c.text;
    });
    f.warn(
      `${key}[${index}]`,
      `${c.text} is very broad (shorter than /${BROAD_PREFIX[c.family]}): it admits 1/${2 ** c.prefix} of all ` +
        `IPv${c.family} addresses; list only the networks you trust`,
    );
  }
}

function parsePorts(
  f: Findings,
  key: string,
  port: unknown,
  ports: unknown,
  portRanges: unknown,
): PortRange[] | undefined {
  if (
    (port === undefined && ports === undefined && portRanges === undefined) ||
    (port !== undefined && ports !== undefined)
  ) {
    f.fail(
      `${key}.port`,
      port ?? ports,
      port === undefined ? "is missing" : "is given together with ports",
      `port (${PORT_ACCEPTED}) or ports (a list of them), and/or portRanges (a list of "from-to" ranges)`,
    );
    return undefined;
  }
  const ranges: PortRange[] = [];
  let ok = true;
  const list = (name: string, raw: unknown) => {
    if (raw === undefined) return;
    if (!Array.isArray(raw) || raw.length === 0) {
      f.fail(`${key}.${name}`, raw, "is not a non-empty list", `a list of ports, each ${PORT_ACCEPTED}`);
      ok = false;
      return;
    }
    raw.forEach((p: unknown, i) => {
      const r = parsePortRange(p);
      if (r.ok) ranges.push(r.range);
      else {
        f.fail(`${key}.${name}[${i}]`, p, r.problem, r.accepted);
        ok = false;
      }
    });
  };
  if (port !== undefined) {
    const r = parsePortRange(port);
    if (r.ok) ranges.push(r.range);
    else {
      f.fail(`${key}.port`, port, r.problem, r.accepted);
      ok = false;
    }
  }
  list("ports", ports);
  list("portRanges", portRanges);
  return ok ? mergePortRanges(ranges) : undefined;
}

function singlePort(f: Findings, key: string, raw: unknown): PortRange | undefined {
  const r = parsePortRange(raw);
  if (!r.ok || r.range.from !== r.range.to) {
    f.fail(key, raw, r.ok ? "is a range" : r.problem, "a single port from 1 to 65535, e.g. 22");
    return undefined;
  }
  return r.range;
}

function parseName(f: Findings, key: string, raw: unknown): string | undefined {
  if (typeof raw !== "string" || !NAME_PATTERN.test(raw)) {
    const shell = typeof raw === "string" ? SHELL_CHARACTERS.exec(raw) : null;
    f.fail(
      key,
      raw,
      shell ? `contains ${JSON.stringify(shell[0])}, which a shell could interpret` : "is not a valid name",
      NAME_ACCEPTED,
    );
    return undefined;
  }
  return raw;
}

function parseDescription(f: Findings, key: string, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !DESCRIPTION_PATTERN.test(raw)) {
    const shell = typeof raw === "string" ? SHELL_CHARACTERS.exec(raw) : null;
    f.fail(
      key,
      raw,
      shell
        ? `contains ${JSON.stringify(shell[0])}, which a shell could interpret`
        : "is not a valid description",
      DESCRIPTION_ACCEPTED,
    );
    return undefined;
  }
  return raw;
}

function checkNames(
  f: Findings,
  key: string,
  items: readonly ({ name: string } | undefined)[],
  list = "services",
): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    if (!item) return;
    if (list === "services" && item.name === "ssh") {
      f.fail(`${key}.${list}[${i}].name`, item.name, "is reserved for the SSH rules", "any other name");
    }
    const first = seen.get(item.name);
    if (first !== undefined) {
      f.fail(
        `${key}.${list}[${i}].name`,
        item.name,
        `repeats the name of ${list}[${first}]`,
        "a unique name",
      );
    } else {
      seen.set(item.name, i);
    }
  });
}

/**
 * Each (protocol, port range, destination) is declared once. Two entries declaring the same one
 * would give AWS two rules of the same name, while UFW keeps one rule for both (the later
 * comment wins) and then never matches the policy. A destination inside another entry's for the
 * same ports is refused too: UFW writes an IPv4-only world as 0.0.0.0/1 and 128.0.0.0/1, which
 * such an entry can repeat exactly.
 */
function checkOutboundRepeats(f: Findings, key: string, rules: readonly (OutboundRule | undefined)[]): void {
  rules.forEach((r, j) => {
    if (!r) return;
    for (const [i, earlier] of rules.slice(0, j).entries()) {
      if (!earlier || earlier.protocol !== r.protocol) continue;
      for (const ports of r.ports.filter((p) =>
        earlier.ports.some((q) => q.from === p.from && q.to === p.to),
      )) {
        for (const d of r.destinations) {
          const outer = earlier.destinations.find((e) => contains(e, d));
          if (!outer) continue;
          const what = `${r.protocol} port ${formatPortRange(ports)} to ${d.text}`;
          f.fail(
            `${key}.allow[${j}]`,
            what,
            outer.text === d.text
              ? `is already allowed by allow[${i}] (${earlier.name})`
              : `is already allowed by allow[${i}] (${earlier.name}), whose ${outer.text} contains it`,
            "each protocol, port and destination allowed by one entry only: remove the repeat, or merge the entries",
          );
        }
      }
    }
  });
}

/** Each (protocol, port) belongs to one service, so every rule has one owner and one comment. */
function checkPortOwnership(
  f: Findings,
  key: string,
  ssh: Service | undefined,
  services: readonly (Service | undefined)[],
): void {
  const owners: { label: string; service: Service }[] = [];
  if (ssh) owners.push({ label: "ssh", service: ssh });
  services.forEach((s, i) => {
    if (!s) return;
    for (const other of owners) {
      if (other.service.protocol !== s.protocol) continue;
      const clash = s.ports.find((p) => other.service.ports.some((q) => overlaps(p, q)));
      if (clash) {
        f.fail(
          `${key}.services[${i}]`,
          formatPortRange(clash),
          `overlaps ${s.protocol} ports already declared by ${other.label}`,
          "ports that no other service (and not SSH) declares for the same protocol",
        );
      }
    }
    owners.push({ label: `services[${i}] (${s.name})`, service: s });
  });
}

function warnAboutSsh(f: Findings, key: string, ssh: Service): void {
  if (coversFamily(ssh.sources, 4) || coversFamily(ssh.sources, 6)) {
    f.warn(
      `${key}.adminCidrs`,
      "SSH is open to the whole internet; list only the networks you administer from, or reach SSH over a VPN",
    );
  }
  if (ssh.rateLimit) {
    f.warn(
      `${key}.rateLimit`,
      "UFW's limit allows 6 new connections per 30 s per address, and a deployment opens one SSH " +
        "connection per step: the deployer's own address can be blocked mid-deployment",
    );
  }
}

function record(
  f: Findings,
  key: string,
  raw: unknown,
  allowed: readonly string[],
): Record<string, unknown> | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    f.fail(key, raw, "is not an object", `an object with keys ${allowed.join(", ")}`);
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (allowed.includes(k)) continue;
    const guess = closestName(k, allowed);
    f.fail(
      `${key}.${k}`,
      (raw as Record<string, unknown>)[k],
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${allowed.join(", ")}`,
    );
  }
  return raw as Record<string, unknown>;
}

function list(f: Findings, key: string, raw: unknown): unknown[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    f.fail(key, raw, "is not a list", "a YAML list");
    return [];
  }
  return raw;
}

/** A boolean config value, `fallback` when unset; anything else is a problem at `key`. */
export function bool(f: Findings, key: string, raw: unknown, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw !== "boolean") {
    f.fail(key, raw, "is not a boolean", "true or false");
    return fallback;
  }
  return raw;
}

function oneOf<T extends string>(
  f: Findings,
  key: string,
  raw: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !(allowed as readonly string[]).includes(raw)) {
    f.fail(key, raw, "is not recognised", `one of ${allowed.join(", ")}`);
    return fallback;
  }
  return raw as T;
}

/** Locale-independent ordering, so output is byte-identical on every machine. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
