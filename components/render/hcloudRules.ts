import { formatPortRange } from "../policy/ports";
import type { FirewallPolicy, Protocol, Service } from "../policy/types";

/** Hetzner allows at most this many addresses in one rule; longer lists are split. */
export const HCLOUD_MAX_ADDRESSES_PER_RULE = 100;

/** One rule of an `hcloud.Firewall`, in the provider's input shape. */
export interface HcloudRule {
  readonly direction: "in" | "out";
  readonly protocol: Protocol;
  /** `"22"` or `"8080-8090"`: Hetzner takes ports as strings. */
  readonly port: string;
  readonly sourceIps?: string[];
  readonly destinationIps?: string[];
  readonly description: string;
}

/**
 * Hetzner firewall rules. Inbound is denied unless a rule admits it; outbound is open until the
 * first `out` rule exists, so the open default needs no rules and an allow-list is written out.
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
  return [...inbound, ...outbound];
}

function chunks(items: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < items.length; i += HCLOUD_MAX_ADDRESSES_PER_RULE) {
    out.push(items.slice(i, i + HCLOUD_MAX_ADDRESSES_PER_RULE));
  }
  return out;
}
