import { formatPortRange } from "../policy/ports";
import type { FirewallPolicy, Protocol, Service } from "../policy/types";

/** Hetzner allows at most this many addresses in one rule; longer lists are split. */
export const HCLOUD_MAX_ADDRESSES_PER_RULE = 100;

/** One rule of an `hcloud.Firewall`, in the provider's input shape. */
export interface HcloudRule {
  readonly direction: "in" | "out";
  readonly protocol: Protocol | "icmp";
  /** `"22"` or `"8080-8090"`: Hetzner takes ports as strings. None for ICMP, which has no ports. */
  readonly port?: string;
  readonly sourceIps?: string[];
  readonly destinationIps?: string[];
  readonly description: string;
}

/**
 * Hetzner has allow rules only, and outbound turns to deny once any `out` rule exists. So an
 * empty allow-list is this one rule, which admits nothing that leaves the server: ICMP to
 * TEST-NET-1, the IPv4 block reserved for documentation and routed nowhere (RFC 5737).
 */
export const HCLOUD_DENY_ALL_OUT: HcloudRule = {
  direction: "out",
  protocol: "icmp",
  destinationIps: ["192.0.2.0/24"],
  description: "deny all outgoing: admits nothing (RFC 5737 documentation range)",
};

/**
 * Hetzner firewall rules. Inbound is denied unless a rule admits it; outbound is open until the
 * first `out` rule exists, so the open default needs no rules and an allow-list is written out
 * (an empty one as HCLOUD_DENY_ALL_OUT).
 */
export function renderHcloudRules(policy: FirewallPolicy): HcloudRule[] {
  const inbound = [policy.ssh, ...policy.services].flatMap((s: Service) =>
    s.ports.flatMap((p) =>
      chunks(s.sources.map((c) => c.text)).map((sourceIps): HcloudRule => ({
        direction: "in",
        protocol: s.protocol,
        port: formatPortRange(p),
        sourceIps,
        description: s.description,
      })),
    ),
  );
  const outbound =
    policy.outgoing.policy === "allow"
      ? []
      : policy.outgoing.allow.flatMap((r) =>
          r.ports.flatMap((p) =>
            chunks(r.destinations.map((c) => c.text)).map((destinationIps): HcloudRule => ({
              direction: "out",
              protocol: r.protocol,
              port: formatPortRange(p),
              destinationIps,
              description: r.description,
            })),
          ),
        );
  const denyAll = policy.outgoing.policy === "deny" && outbound.length === 0;
  return [...inbound, ...outbound, ...(denyAll ? [HCLOUD_DENY_ALL_OUT] : [])];
}

function chunks(items: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < items.length; i += HCLOUD_MAX_ADDRESSES_PER_RULE) {
    out.push(items.slice(i, i + HCLOUD_MAX_ADDRESSES_PER_RULE));
  }
  return out;
}
