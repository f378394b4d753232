import { type Cidr, cidr, isWorld } from "../policy/cidr";
import { type PortRange, formatPortRange } from "../policy/ports";
import { type FirewallPolicy, type Protocol, inboundRules, outboundRules } from "../policy/types";

/** Every rule we add carries a comment starting with this; rules without it are never touched. */
export const UFW_COMMENT_PREFIX = "openclaw:";

/** One UFW rule, before it is written out as the command line `ufw show added` prints. */
export interface UfwRule {
  readonly action: "allow" | "limit";
  readonly direction: "in" | "out";
  readonly protocol: Protocol;
  readonly ports: PortRange;
  /** `any` means both families (UFW stores it once in user.rules and once in user6.rules). */
  readonly peer: Cidr | "any";
  readonly comment: string;
}

/**
 * UFW treats `0.0.0.0/0` as "any", which also admits IPv6. When only one family is open to the
 * world, the world is written as its two halves, which UFW keeps as the family-specific
 * networks they are.
 */
const HALVES: Record<4 | 6, Cidr[]> = {
  4: [cidr("0.0.0.0/1"), cidr("128.0.0.0/1")],
  6: [cidr("::/1"), cidr("8000::/1")],
};

/** The structured UFW rule set, in the order the converger adds them: SSH first. */
export function ufwRules(policy: FirewallPolicy): UfwRule[] {
  const rules: UfwRule[] = [];
  const inbound = inboundRules(policy);
  // Group by owner and port range: the world-detection below needs all sources of a rule.
  const groups = new Map<string, typeof inbound>();
  for (const r of inbound) {
    const k = `${r.owner}\u0000${r.protocol}\u0000${r.ports.from}\u0000${r.ports.to}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const base = {
      action: first.rateLimit ? ("limit" as const) : ("allow" as const),
      direction: "in" as const,
      protocol: first.protocol,
      ports: first.ports,
      comment: `${UFW_COMMENT_PREFIX}${first.owner}`,
    };
    for (const peer of peers(
      group.map((r) => r.source),
      policy.ipv6,
    ))
      rules.push({ ...base, peer });
  }
  // Outgoing worlds too: UFW prints `to 0.0.0.0/0` back as `allow out PORT/PROTO` (any) while
  // keeping it IPv4-only, so that text would never match what `ufw show added` shows.
  const outbound = new Map<string, ReturnType<typeof outboundRules>>();
  for (const r of outboundRules(policy)) {
    const k = `${r.owner}\u0000${r.protocol}\u0000${r.ports.from}\u0000${r.ports.to}`;
    outbound.set(k, [...(outbound.get(k) ?? []), r]);
  }
  for (const group of outbound.values()) {
    const first = group[0]!;
    for (const peer of peers(
      group.map((r) => r.destination),
      policy.ipv6,
    ))
      rules.push({
        action: "allow",
        direction: "out",
        protocol: first.protocol,
        ports: first.ports,
        peer,
        comment: `${UFW_COMMENT_PREFIX}out:${first.owner}`,
      });
  }
  return rules;
}

function peers(sources: readonly Cidr[], ipv6: boolean): (Cidr | "any")[] {
  // Parsing collapsed every network inside a world entry, so a world entry stands alone per family.
  const world4 = sources.some((c) => c.family === 4 && isWorld(c));
  const world6 = sources.some((c) => c.family === 6 && isWorld(c));
  if (world4 && (world6 || !ipv6)) return ["any"];
  return sources.flatMap((c) => (isWorld(c) ? HALVES[c.family] : [c]));
}

/** The exact line `ufw show added` prints for a rule (also a valid `ufw` command). */
export function ufwLine(r: UfwRule): string {
  const port = formatPortRange(r.ports, ":");
  const comment = ` comment '${r.comment}'`;
  const out = r.direction === "out" ? " out" : "";
  if (r.peer === "any") return `ufw ${r.action}${out} ${port}/${r.protocol}${comment}`;
  // UFW stores a single host without its /32 or /128 and prints it that way.
  const host = r.peer.prefix === (r.peer.family === 4 ? 32 : 128) ? r.peer.address : r.peer.text;
  const peer = r.direction === "in" ? `from ${host} to any port` : `to ${host} port`;
  return `ufw ${r.action}${out} ${peer} ${port} proto ${r.protocol}${comment}`;
}

/**
 * The rule set as `ufw show added` prints it after a first apply on a fresh host: rules held in
 * user.rules (IPv4 and both-family) first, then the IPv6-only rules from user6.rules. (sshd's
 * replies with outgoing traffic denied are a chain of ours: see sshReplies.ts.)
 */
export function renderUfwRules(policy: FirewallPolicy): string[] {
  const rules = ufwRules(policy);
  const v6only = (r: UfwRule) => r.peer !== "any" && r.peer.family === 6;
  return [...rules.filter((r) => !v6only(r)), ...rules.filter(v6only)].map(ufwLine);
}
