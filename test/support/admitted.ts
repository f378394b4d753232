// Reads each layer's rendering back into the traffic it admits, and decides admission with
// node's net.BlockList: an oracle that shares no code with the policy core.
import * as net from "node:net";
import type { AwsRule } from "../../components/cloud/awsRules";
import type { HcloudRule } from "../../components/cloud/hcloudRules";
import type { FirewallConfig } from "../../components/policy/types";

export type Direction = "in" | "out";

/** One admitted slice of traffic: protocol, an inclusive port range and a peer network. */
export interface Entry {
  readonly direction: Direction;
  readonly protocol: "tcp" | "udp";
  /** The peer's port range (the destination port going out, the local port coming in). */
  readonly from: number;
  readonly to: number;
  /** `address/prefix` exactly as the layer holds it. */
  readonly peer: string;
  /** When set, the entry admits only packets leaving from this local (source) port range. */
  readonly source?: { readonly from: number; readonly to: number };
  /** When true, the entry admits only packets that open no connection: TCP without SYN. */
  readonly midConnection?: boolean;
}

const WORLD = { 4: "0.0.0.0/0", 6: "::/0" } as const;

export function splitPeer(peer: string): { address: string; prefix: number; family: 4 | 6 } {
  const [address, prefix] = peer.split("/") as [string, string | undefined];
  const family = net.isIP(address);
  if (family === 0) throw new Error(`not an address: ${peer}`);
  return {
    address,
    prefix: prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix),
    family: family as 4 | 6,
  };
}

export function fromAws(rules: readonly AwsRule[]): Entry[] {
  return rules.flatMap((r) => {
    const direction: Direction = r.direction === "ingress" ? "in" : "out";
    const peer = (r.cidrIpv4 ?? r.cidrIpv6)!;
    if (r.ipProtocol === "-1") {
      return (["tcp", "udp"] as const).map((protocol) => ({ direction, protocol, from: 1, to: 65535, peer }));
    }
    return [{ direction, protocol: r.ipProtocol, from: r.fromPort!, to: r.toPort!, peer }];
  });
}

/**
 * Hetzner denies inbound by default and allows all outbound until an out rule exists, of any
 * protocol. Rules for protocols other than TCP and UDP admit nothing this model covers.
 */
export function fromHcloud(rules: readonly HcloudRule[], ipv6: boolean): Entry[] {
  const entries = rules.flatMap((r) => {
    const protocol = r.protocol;
    if (protocol !== "tcp" && protocol !== "udp") return [];
    const [from, to] = r.port!.split("-").map(Number) as [number, number | undefined];
    return (r.sourceIps ?? r.destinationIps ?? []).map((peer) => ({
      direction: r.direction,
      protocol,
      from,
      to: to ?? from,
      peer,
    }));
  });
  if (!rules.some((r) => r.direction === "out")) entries.push(...openOutbound(ipv6));
  return entries;
}

const UFW_LINE =
  /^ufw (allow|limit)( out)? (?:(\d+(?::\d+)?)\/(tcp|udp)|(?:from|to) (\S+) (?:to any )?port (\d+(?::\d+)?) proto (tcp|udp)) comment '([^']*)'$/;
/**
 * `allow out from any port P proto X`: anything leaving from local port P, to anywhere, a
 * connection's first packet (SYN) included.
 */
const UFW_SOURCE_PORT_LINE = /^ufw allow out from any port (\d+(?::\d+)?) proto (tcp|udp) comment '([^']*)'$/;

function range(ports: string): { from: number; to: number } {
  const [from, to] = ports.split(":").map(Number) as [number, number | undefined];
  return { from, to: to ?? from };
}

/**
 * Reads `ufw show added` lines. `any` covers both families, or IPv4 alone when IPV6=no; the
 * outgoing default comes from `ufw default ... outgoing`, given here as `outgoingAllowed`.
 * UFW also admits replies of tracked connections (ESTABLISHED); these entries are its rules
 * alone, which is all a session that conntrack never saw gets.
 */
export function fromUfw(lines: readonly string[], ipv6: boolean, outgoingAllowed: boolean): Entry[] {
  const world = ipv6 ? [WORLD[4], WORLD[6]] : [WORLD[4]];
  const entries = lines.flatMap((line): Entry[] => {
    const s = UFW_SOURCE_PORT_LINE.exec(line);
    if (s) {
      const protocol = s[2] as "tcp" | "udp";
      return world.map((peer) => ({
        direction: "out",
        protocol,
        from: 1,
        to: 65535,
        peer,
        source: range(s[1]!),
      }));
    }
    const m = UFW_LINE.exec(line);
    if (!m) throw new Error(`unrecognised ufw line: ${line}`);
    const direction: Direction = m[2] ? "out" : "in";
    const protocol = (m[4] ?? m[7]) as "tcp" | "udp";
    const peers = m[5] ? [m[5]] : world;
    return peers.map((peer) => ({ direction, protocol, ...range((m[3] ?? m[6])!), peer }));
  });
  if (outgoingAllowed) entries.push(...openOutbound(ipv6));
  return entries;
}

/** A rule of the ssh-replies chain: TCP without SYN from local port P, to anywhere. */
const REPLIES_LINE =
  /^-A openclaw-ssh-replies -p tcp -m tcp --sport (\d+(?::\d+)?) --tcp-flags SYN NONE -j ACCEPT$/;

/** Reads the ssh-replies chain's rules (iptables syntax) for one family. */
export function fromSshReplies(lines: readonly string[], family: 4 | 6): Entry[] {
  return lines.map((line) => {
    const m = REPLIES_LINE.exec(line);
    if (!m) throw new Error(`unrecognised ssh-replies rule: ${line}`);
    return {
      direction: "out",
      protocol: "tcp",
      from: 1,
      to: 65535,
      peer: WORLD[family],
      source: range(m[1]!),
      midConnection: true,
    };
  });
}

export function openOutbound(ipv6: boolean): Entry[] {
  return (["tcp", "udp"] as const).flatMap((protocol) =>
    (ipv6 ? [WORLD[4], WORLD[6]] : [WORLD[4]]).map((peer) => ({
      direction: "out" as const,
      protocol,
      from: 1,
      to: 65535,
      peer,
    })),
  );
}

/**
 * What the operator declared, read straight from the raw config: the ground truth. Takes a
 * config the parser accepts; defaults as docs/configuration.md gives them.
 */
export function declaredEntries(c: FirewallConfig): Entry[] {
  const entries = (
    direction: Direction,
    protocol: string,
    ports: (number | string)[],
    peers: string[],
  ): Entry[] =>
    ports.flatMap((p) => {
      const [from, to] = String(p).split("-").map(Number) as [number, number | undefined];
      return peers.map((peer) => ({
        direction,
        protocol: protocol as "tcp" | "udp",
        from,
        to: to ?? from,
        peer,
      }));
    });
  const ports = (x: { port?: number; ports?: number[]; portRanges?: string[] }) => [
    ...(x.port === undefined ? [] : [x.port]),
    ...(x.ports ?? []),
    ...(x.portRanges ?? []),
  ];
  return [
    ...entries("in", "tcp", [c.ssh!.port ?? 22], c.ssh!.adminCidrs!),
    ...(c.services ?? []).flatMap((s) => entries("in", s.protocol ?? "tcp", ports(s), s.sources!)),
    ...(c.outgoing?.policy === "deny"
      ? (c.outgoing.allow ?? []).flatMap((o) =>
          entries("out", o.protocol ?? "tcp", ports(o), o.destinations!),
        )
      : openOutbound(c.ipv6 ?? true)),
  ];
}

/**
 * With outgoing denied, sshd's packets that open no connection leave by their source port to
 * anyone (docs/configuration.md, outgoing allow-list), so that the session that enables UFW gets
 * out even when conntrack never saw it; a connection opened from that port follows the allow-list.
 */
export function sshReplyEntries(c: FirewallConfig): Entry[] {
  if (c.outgoing?.policy !== "deny") return [];
  const port = c.ssh!.port ?? 22;
  return ((c.ipv6 ?? true) ? ["0.0.0.0/0", "::/0"] : ["0.0.0.0/0"]).map((peer) => ({
    direction: "out" as const,
    protocol: "tcp" as const,
    from: 1,
    to: 65535,
    peer,
    source: { from: port, to: port },
    midConnection: true,
  }));
}

/**
 * Answers "does this rule set admit (direction, protocol, port, address)?" with one BlockList
 * per (direction, protocol, port, source port, opening), built on first use. Without
 * `sourcePort` the packet leaves from an ephemeral port that no source-port entry names; it
 * opens a connection (a SYN) unless `opening` is false.
 */
export class Oracle {
  private readonly cache = new Map<string, net.BlockList>();
  constructor(private readonly entries: readonly Entry[]) {}

  admits(
    direction: Direction,
    protocol: "tcp" | "udp",
    port: number,
    address: string,
    sourcePort?: number,
    opening = true,
  ): boolean {
    const family = net.isIPv4(address) ? 4 : 6;
    const key = `${direction} ${protocol} ${port} ${sourcePort ?? "-"} ${opening} ${family}`;
    let list = this.cache.get(key);
    if (!list) {
      // One family per list: a BlockList matches an IPv4 address against IPv6 subnets through
      // its mapped form (::ffff:a.b.c.d), so ::/0 would "admit" all of IPv4.
      list = new net.BlockList();
      for (const e of this.entries) {
        if (e.direction !== direction || e.protocol !== protocol || port < e.from || port > e.to) continue;
        if (e.source && (sourcePort === undefined || sourcePort < e.source.from || sourcePort > e.source.to))
          continue;
        if (e.midConnection && opening) continue;
        const p = splitPeer(e.peer);
        if (p.family === family) list.addSubnet(p.address, p.prefix, family === 4 ? "ipv4" : "ipv6");
      }
      this.cache.set(key, list);
    }
    return list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/** Addresses worth probing around a network: its first and last address and the neighbours outside. */
export function boundaryAddresses(peer: string): string[] {
  const { address, prefix, family } = splitPeer(peer);
  const bits = family === 4 ? 32 : 128;
  const value = toBigInt(address, family);
  const size = 1n << BigInt(bits - prefix);
  const first = (value / size) * size;
  const last = first + size - 1n;
  const max = (1n << BigInt(bits)) - 1n;
  return [first - 1n, first, last, last + 1n]
    .filter((v) => v >= 0n && v <= max)
    .map((v) => fromBigInt(v, family));
}

export function boundaryPorts(entries: readonly Entry[]): number[] {
  const ports = new Set<number>([1, 65535]);
  for (const e of entries)
    for (const p of [e.from - 1, e.from, e.to, e.to + 1]) if (p >= 1 && p <= 65535) ports.add(p);
  return [...ports].sort((a, b) => a - b);
}

function toBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  const [head, tail] = address.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".");
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  return groups.join(":");
}
