import type { Cidr } from "./cidr";
import type { PortRange } from "./ports";

export type Protocol = "tcp" | "udp";
export const PROTOCOLS: readonly Protocol[] = ["tcp", "udp"];

// Enums as `as const` objects: the multi-language schema names them, and TypeScript still takes
// the plain strings ("medium").
/** UFW's logging level. */
export const LoggingLevel = { Off: "off", Low: "low", Medium: "medium", High: "high", Full: "full" } as const;
export type LoggingLevel = (typeof LoggingLevel)[keyof typeof LoggingLevel];
export const LOGGING_LEVELS: readonly LoggingLevel[] = Object.values(LoggingLevel);

/** What the host may reach when no rule names it. */
export const OutgoingPolicy = { Allow: "allow", Deny: "deny" } as const;
export type OutgoingPolicy = (typeof OutgoingPolicy)[keyof typeof OutgoingPolicy];

/**
 * The firewall config as an operator writes it under `openclaw:firewall` in a stack file.
 * Everything is optional at the type level because it arrives as untyped YAML; `parsePolicy`
 * checks it and reports every problem with its key.
 */
export interface FirewallConfig {
  /** Who may reach SSH, and at which port. Required: the deployer logs in over it. */
  ssh?: SshPolicyConfig;
  /** The ports the host serves, each open only to its sources. Default none. */
  services?: ServiceConfig[];
  /** UFW logging level. Default `medium`. */
  logging?: LoggingLevel;
  /** Enforce IPv6 as well as IPv4. Default true; false drops all IPv6 on the host. */
  ipv6?: boolean;
  /** What the host (and, on a host with Docker, its containers) may reach. Default: anything. */
  outgoing?: OutgoingConfig;
}

/** Who may reach SSH, and at which port. */
export interface SshPolicyConfig {
  /** SSH port on the host. Default 22. */
  port?: number;
  /** Who may reach SSH. Required and non-empty: an empty list would lock everyone out. */
  adminCidrs?: string[];
  /** Use UFW's `limit` (6 new connections per 30 s per source) on SSH. Default false. */
  rateLimit?: boolean;
}

/** What the host may reach. */
export interface OutgoingConfig {
  /** `allow` (default) lets the host reach anything; `deny` admits only `allow` below. */
  policy?: OutgoingPolicy;
  /** With `policy: deny`, the only destinations the host may reach; refused with `allow`. */
  allow?: OutboundConfig[];
}

/**
 * Ports are numbers, and ranges are text in `portRanges` ("8080-8090"): the multi-language
 * schema has no number-or-text type. A stack file may still write a range as `port`/`ports`.
 */
export interface ServiceConfig {
  /**
   * Names the service and the UFW rules made for it (`openclaw:<name>`): 1-48 letters, digits,
   * `.`, `_` and `-`, starting with a letter or digit, unique among the services. Required.
   */
  name?: string;
  /** What the service is, for the plan and the cloud rules: up to 200 characters. Default its name. */
  description?: string;
  /** One port, e.g. `8000`. Use `ports` for several, `portRanges` for ranges. */
  port?: number;
  /** Several ports, e.g. `[8000, 8443]`; with `port` and `portRanges`, or alone. */
  ports?: number[];
  /** Ranges `"from-to"`, e.g. `["8080-8090"]`; with `port` or `ports`, or alone. */
  portRanges?: string[];
  /** `tcp` (default) or `udp`. */
  protocol?: string;
  /** Trusted source addresses or networks. */
  sources?: string[];
  /** Use UFW's `limit` for this service. Default false. */
  rateLimit?: boolean;
  /** Must be true for `0.0.0.0/0` or `::/0` to be accepted in `sources`. */
  public?: boolean;
}

/** One destination the host may reach when `outgoing.policy` is `deny`. */
export interface OutboundConfig {
  /** Names the entry and its UFW rules (`openclaw:out:<name>`), as a service's name. Required. */
  name?: string;
  /** What the entry is for: up to 200 characters. Default its name. */
  description?: string;
  /** One destination port, e.g. `443`. */
  port?: number;
  /** Several destination ports, e.g. `[80, 443]`. */
  ports?: number[];
  /** Destination port ranges `"from-to"`, e.g. `["1024-65535"]`. */
  portRanges?: string[];
  /** `tcp` (default) or `udp`. */
  protocol?: string;
  /** The networks the host may reach on those ports: a non-empty list of CIDRs (the world needs no `public`). */
  destinations?: string[];
}

/** A normalised inbound service: canonical CIDRs, merged ports, stable order. */
export interface Service {
  readonly name: string;
  readonly description: string;
  readonly protocol: Protocol;
  readonly ports: readonly PortRange[];
  readonly sources: readonly Cidr[];
  readonly rateLimit: boolean;
}

export interface OutboundRule {
  readonly name: string;
  readonly description: string;
  readonly protocol: Protocol;
  readonly ports: readonly PortRange[];
  readonly destinations: readonly Cidr[];
}

/**
 * The single source of truth every layer is rendered from. Pure data: the same config always
 * produces a byte-identical policy.
 */
export interface FirewallPolicy {
  readonly ssh: Service;
  readonly services: readonly Service[];
  readonly logging: LoggingLevel;
  readonly ipv6: boolean;
  readonly outgoing:
    { readonly policy: "allow" } | { readonly policy: "deny"; readonly allow: readonly OutboundRule[] };
}

/** One admitted (protocol, port range, source) triple: the unit every layer must agree on. */
export interface InboundRule {
  /** `ssh` or the service name. */
  readonly owner: string;
  readonly description: string;
  readonly protocol: Protocol;
  readonly ports: PortRange;
  readonly source: Cidr;
  readonly rateLimit: boolean;
}

export interface OutboundRuleEntry {
  readonly owner: string;
  readonly description: string;
  readonly protocol: Protocol;
  readonly ports: PortRange;
  readonly destination: Cidr;
}

/** Flattens the policy into atomic inbound rules: SSH first, then services in name order. */
export function inboundRules(policy: FirewallPolicy): InboundRule[] {
  return [policy.ssh, ...policy.services].flatMap((s) =>
    s.ports.flatMap((ports) =>
      s.sources.map((source) => ({
        owner: s.name,
        description: s.description,
        protocol: s.protocol,
        ports,
        source,
        rateLimit: s.rateLimit,
      })),
    ),
  );
}

export function outboundRules(policy: FirewallPolicy): OutboundRuleEntry[] {
  if (policy.outgoing.policy === "allow") return [];
  return policy.outgoing.allow.flatMap((r) =>
    r.ports.flatMap((ports) =>
      r.destinations.map((destination) => ({
        owner: r.name,
        description: r.description,
        protocol: r.protocol,
        ports,
        destination,
      })),
    ),
  );
}
