import { type Cidr, contains, coversFamily, parseCidr } from "./cidr";
import { Findings, type PolicyWarning } from "./errors";
import { type PortRange, formatPortRange, mergePortRanges, overlaps, parsePortRange } from "./ports";
import { closestName } from "./suggest";
import type { FirewallPolicy } from "./types";

const ROUTER_KEYS = ["address", "forwards", "masquerade"];

/** The NAT router in front of an existing host, as its stack declares it. */
export interface RouterConfig {
  /** The router's address on the host's network: what the host sees when the router masquerades. */
  readonly address: Cidr;
  /** Ports the router forwards to the host. */
  readonly forwards: readonly PortRange[];
  /** Whether the router also rewrites the source (SNAT/MASQUERADE) of what it forwards. */
  readonly masquerade: boolean;
}

/** Validates `openclaw:existing.router` (or the component's `existing.router`); undefined when absent or invalid. */
export function parseRouter(f: Findings, key: string, raw: unknown): RouterConfig | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    f.fail(key, raw, "is not an object", '{ address: "192.168.1.1", forwards: [8000], masquerade: false }');
    return undefined;
  }
  const o = raw as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if (ROUTER_KEYS.includes(name)) continue;
    const guess = closestName(name, ROUTER_KEYS);
    f.fail(
      `${key}.${name}`,
      o[name],
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${ROUTER_KEYS.join(", ")}`,
    );
  }
  const address = parseCidr(o["address"]);
  const host = address.ok && address.cidr.prefix === (address.cidr.family === 4 ? 32 : 128);
  if (!host || String(o["address"]).includes("/")) {
    f.fail(
      `${key}.address`,
      o["address"],
      "is not a host address",
      "the router's LAN address, e.g. 192.168.1.1",
    );
  }
  const forwards: PortRange[] = [];
  if (!Array.isArray(o["forwards"]) || o["forwards"].length === 0) {
    f.fail(
      `${key}.forwards`,
      o["forwards"],
      "is not a non-empty list",
      'the ports the router forwards, e.g. [8000, "9000-9010"]',
    );
  } else {
    o["forwards"].forEach((p: unknown, i) => {
      const port = parsePortRange(p);
      if (port.ok) forwards.push(port.range);
      else f.fail(`${key}.forwards[${i}]`, p, port.problem, port.accepted);
    });
  }
  if (typeof o["masquerade"] !== "boolean") {
    f.fail(
      `${key}.masquerade`,
      o["masquerade"],
      "is not a boolean",
      "true if the router rewrites the source address (SNAT/MASQUERADE), else false",
    );
  }
  const complete = f.problems.length === 0;
  if (!complete || !address.ok || typeof o["masquerade"] !== "boolean") return undefined;
  return { address: address.cidr, forwards: mergePortRanges(forwards), masquerade: o["masquerade"] };
}

/**
 * A source restriction on a port the router forwards does not do what it says. With plain port
 * forwarding the host sees each client's own address, so a LAN-only rule turns away every
 * internet client; with masquerading the host sees the router, so a rule that admits the
 * router admits the whole internet (and one that does not, nobody). `configServices` is the
 * services list as written, so each warning's key points at the entry the operator wrote.
 */
export function natWarnings(
  policy: FirewallPolicy,
  router: RouterConfig,
  key: string,
  configServices: readonly { name?: unknown }[] = policy.services,
): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  const services = [policy.ssh, ...policy.services];
  services.forEach((s, i) => {
    if (coversFamily(s.sources, 4) || coversFamily(s.sources, 6)) return;
    const forwarded = s.ports.filter((p) => router.forwards.some((f) => overlaps(p, f)));
    if (forwarded.length === 0) return;
    // Keys name the service where the operator wrote it: the policy orders services by name.
    const where =
      i === 0 ? `${key}.ssh` : `${key}.services[${configServices.findIndex((c) => c.name === s.name)}]`;
    const ports = `${forwarded.map((p) => formatPortRange(p)).join(", ")}/${s.protocol}`;
    const sources = s.sources.map((c) => c.text).join(", ");
    let effect: string;
    if (!router.masquerade) {
      effect = `the router forwards it without masquerading, so the host sees each client's own address: this rule turns away every internet client the router forwards, and only ${sources} get in`;
    } else if (s.sources.some((c) => contains(c, router.address))) {
      effect = `the router masquerades, so the host sees every forwarded connection as coming from ${router.address.address}, which ${sources} includes: this rule admits the whole internet`;
    } else {
      effect = `the router masquerades, so the host sees every forwarded connection as coming from ${router.address.address}, which ${sources} does not include: this rule turns away every forwarded connection`;
    }
    warnings.push({
      key: where,
      message: `${s.name} restricts ${ports} to ${sources}, but ${effect}. Restrict the source on the router, or reach the service over a VPN instead.`,
    });
  });
  return warnings;
}
