import { type Cidr, cidr } from "../policy/cidr";
import { formatPortRange } from "../policy/ports";
import { type FirewallPolicy, inboundRules, outboundRules } from "../policy/types";

/** One AWS security group rule: one CIDR per rule, as `aws.vpc.SecurityGroup*Rule` requires. */
export interface AwsRule {
  /**
   * Stable name derived only from the rule's content (direction, protocol, ports, CIDR), so
   * removing one entry never renames, and so never replaces, the others.
   */
  readonly key: string;
  readonly direction: "ingress" | "egress";
  /** `-1` means all protocols (and then no ports). */
  readonly ipProtocol: "tcp" | "udp" | "-1";
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly description: string;
}

/**
 * A CIDR as a fragment of a Pulumi resource name. `::` separates URN parts, so IPv6 colons
 * become `-` and the prefix slash `_`; IPv4 has no `-`, so the mapping stays one to one.
 */
export function cidrSlug(c: Cidr): string {
  return c.text.replace(/:/g, "-").replace("/", "_");
}

function family(c: Cidr): Pick<AwsRule, "cidrIpv4" | "cidrIpv6"> {
  return c.family === 4 ? { cidrIpv4: c.text } : { cidrIpv6: c.text };
}

/** The security group's rules. Egress is explicit: Pulumi removes AWS's default allow-all. */
export function renderAwsRules(policy: FirewallPolicy): AwsRule[] {
  const ingress = inboundRules(policy).map((r): AwsRule => ({
    key: `in-${r.protocol}-${r.ports.from}-${r.ports.to}-${cidrSlug(r.source)}`,
    direction: "ingress",
    ipProtocol: r.protocol,
    fromPort: r.ports.from,
    toPort: r.ports.to,
    ...family(r.source),
    description: `${r.description} (${r.protocol}/${formatPortRange(r.ports)})`,
  }));
  const egress =
    policy.outgoing.policy === "allow"
      ? [cidr("0.0.0.0/0"), ...(policy.ipv6 ? [cidr("::/0")] : [])].map((c): AwsRule => ({
          key: `out-all-${cidrSlug(c)}`,
          direction: "egress",
          ipProtocol: "-1",
          ...family(c),
          description: "All outgoing traffic",
        }))
      : outboundRules(policy).map((r): AwsRule => ({
          key: `out-${r.protocol}-${r.ports.from}-${r.ports.to}-${cidrSlug(r.destination)}`,
          direction: "egress",
          ipProtocol: r.protocol,
          fromPort: r.ports.from,
          toPort: r.ports.to,
          ...family(r.destination),
          description: `${r.description} (${r.protocol}/${formatPortRange(r.ports)})`,
        }));
  return [...ingress, ...egress];
}
