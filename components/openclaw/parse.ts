import type * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { type Findings } from "../policy/errors";
import { bool } from "../policy/parse";
import { closestName } from "../policy/suggest";
import type { FirewallPolicy, Service } from "../policy/types";
import { checkAptKey, checkAptSource } from "./apt";
import { checkUrl } from "./urlCheck";
import { parseHttpsValues } from "./httpsArgs";
import { checkHttpsPolicy } from "./httpsPolicy";
import {
  DEFAULT_GATEWAY_PORT,
  DEFAULT_KEEP_RELEASES,
  DEFAULT_NODE_DIST_URL,
  DEFAULT_NODE_VERSION,
  DEFAULT_NPM_REGISTRY,
  DEFAULT_OPENCLAW_VERSION,
  GATEWAY_SERVICE,
  type NodeSource,
  type OpenClawSpec,
} from "./types";

/** OpenClaw on the server: the `openclaw` block of `OpenClawServer`, `openclaw:openclaw` in a stack. */
export interface OpenClawArgs {
  /**
   * Install and run the OpenClaw gateway. Default true on `aws` and `hcloud`; false on an
   * `existing` host, which may run OpenClaw already.
   */
  enabled?: boolean;
  /** The exact `openclaw` npm version to install (no ranges, no `latest`). Default 2026.9.6. */
  version?: string;
  /**
   * The gateway's port. Default: the port of the policy's `openclaw-gateway` service, else
   * 18789. Given with that service, it must be the same port.
   */
  port?: number;
  /**
   * The npm registry OpenClaw is installed from, e.g. a mirror. Default https://registry.npmjs.org/.
   * https, or http with a warning (npm checks packages against what the same registry serves). No
   * credentials or query in the URL.
   */
  npmRegistry?: string;
  /** Where Node comes from. Default: the official tarball of a Node that OpenClaw supports. */
  node?: OpenClawNodeArgs;
  /**
   * The gateway's token, at least 32 characters; a secret. Unset, one is generated (48 letters
   * and digits) and kept in the stack's state.
   */
  gatewayToken?: pulumi.Input<string>;
  /** ANTHROPIC_API_KEY for the gateway; a secret. */
  anthropicApiKey?: pulumi.Input<string>;
  /** OPENAI_API_KEY for the gateway; a secret. */
  openaiApiKey?: pulumi.Input<string>;
  /**
   * Destroying the component (or turning `enabled` off) stops and removes the service. Default
   * true on `aws` and `hcloud`, false on an `existing` host.
   */
  removeOnDestroy?: boolean;
  /**
   * How many OpenClaw releases the host keeps (the one in service among them), and as many
   * recovery points of the state: older ones are removed after each healthy install. Default 3,
   * from 1 to 100; each release is about 650 MB, each recovery point a copy of the state.
   */
  keepReleases?: number;
  /**
   * The gateway over HTTPS on a domain you own: Caddy on the host in front of it, with a
   * certificate from ACME (Let's Encrypt by default), renewed automatically. The gateway stays
   * on loopback. The policy must then have a service named `openclaw-https` on 443/tcp (who may
   * reach the proxy), and no service may admit the gateway's port; `openclaw-acme-http`, 80/tcp
   * from anywhere for the HTTP-01 challenge and the redirect to HTTPS, is added to every layer.
   * `gatewayUrl` becomes `https://<domain>/`. Unset, no proxy.
   */
  https?: OpenClawHttpsArgs;
}

/** HTTPS in front of the gateway: Caddy, and its certificate from ACME over HTTP-01. */
export interface OpenClawHttpsArgs {
  /**
   * The domain the gateway is reached at, e.g. `gateway.example.com`; required. Its DNS record
   * (A, and AAAA for IPv6) must point at the server. A fully qualified name: no IP address, no
   * wildcard; upper-case letters are lowered and a trailing dot is dropped.
   */
  domain?: string;
  /** The ACME account's contact address, where the CA writes about the certificate; required. */
  email?: string;
  /**
   * The ACME directory URL, https, without credentials. Default Let's Encrypt's,
   * https://acme-v02.api.letsencrypt.org/directory.
   */
  acmeDirectory?: string;
  /**
   * PEM `CERTIFICATE` blocks, CA certificates only (a private key is refused, and never shown):
   * the roots a private ACME CA's directory and its certificates chain to. Unset, the host's
   * trust store.
   */
  acmeRoot?: string;
  /** Where Caddy comes from. Default: the distribution's `caddy` package. */
  caddy?: OpenClawCaddyArgs;
}

/** Caddy from an apt repository instead of the distribution's package. */
export interface OpenClawCaddyArgs {
  /**
   * One apt source line (`deb [signed-by=...] URL SUITE COMPONENT`) to install `caddy` from,
   * checked as `node.aptSource` is: `signed-by` one keyring in /etc/apt/keyrings/ or
   * /usr/share/keyrings/, nothing that turns apt's signature checks off.
   */
  aptSource?: string;
  /**
   * The repository's ASCII-armoured OpenPGP public key, written to the source's `signed-by`
   * keyring; only with `aptSource`. A secret key is refused, and never shown.
   */
  aptKey?: string;
}

/** The Node OpenClaw runs on: an official tarball (SHA-256 checked) or an apt repository. */
export interface OpenClawNodeArgs {
  /** Exact Node version, satisfying OpenClaw's engines (>=24.16.0 <25 || >=26.1.0). Default 24.22.3. */
  version?: string;
  /**
   * Base URL of the Node distribution: `<distUrl>v<version>/node-v<version>-linux-<arch>.tar.xz`
   * and SHASUMS256.txt. Default https://nodejs.org/dist/. Plain http only with `sha256` pinned.
   */
  distUrl?: string;
  /** SHA-256 of the linux tarball, 64 hex digits; unset, the distribution's SHASUMS256.txt is used. */
  sha256?: string;
  /**
   * One apt source line (`deb [signed-by=...] URL SUITE COMPONENT`): Node from apt instead of a
   * tarball, so not with `distUrl` or `sha256`. The `nodejs` package whose version is `version`
   * plus the repository's revision (NodeSource's `24.22.3-1nodesource1`), run as /usr/bin/node.
   * `signed-by` must name one keyring in /etc/apt/keyrings/ or /usr/share/keyrings/, a plain
   * name ending `.gpg` or `.asc`; `trusted=`, `allow-insecure=`, `allow-weak=` and
   * `allow-downgrade-to-insecure=` are refused.
   */
  aptSource?: string;
  /**
   * The apt repository's ASCII-armoured OpenPGP public key, written to the source's `signed-by`
   * keyring: armoured when its name ends `.asc`, else in binary as apt reads it (NodeSource's
   * /usr/share/keyrings/nodesource.gpg). Only with `aptSource`. Its armour, checksum and packets
   * must be a public key's: a secret key is refused, and never shown.
   */
  aptKey?: string;
}

export const OPENCLAW_SECRETS = ["gatewayToken", "anthropicApiKey", "openaiApiKey"] as const;
export type OpenClawSecretName = (typeof OPENCLAW_SECRETS)[number];

/** The secrets as given: plain text or Outputs, checked, never shown. */
export type OpenClawSecretInputs = { readonly [K in OpenClawSecretName]?: pulumi.Input<string> };

/** The Node versions the default OpenClaw version runs on: its package.json `engines.node`. */
export const OPENCLAW_NODE_ENGINES = ">=24.16.0 <25 || >=26.1.0";
export const MIN_GATEWAY_TOKEN_LENGTH = 32;

const KNOWN = [
  "enabled",
  "version",
  "port",
  "npmRegistry",
  "node",
  ...OPENCLAW_SECRETS,
  "removeOnDestroy",
  "keepReleases",
  "https",
] as const;
const NODE_KNOWN = ["version", "distUrl", "sha256", "aptSource", "aptKey"] as const;

export interface OpenClawKeys {
  /** The block: `edge.openclaw`, `openclaw:openclaw`. */
  readonly block: string;
  /** A secret's own key: `edge.openclaw.gatewayToken`, `openclaw:gatewayToken`. */
  readonly secret: (name: OpenClawSecretName) => string;
  /** The firewall policy, for the gateway's service: `edge.firewall`, `openclaw:firewall`. */
  readonly firewall: string;
}

export interface OpenClawContext {
  /** aws and hcloud install by default; an existing host does not. */
  readonly cloud: boolean;
  /** The validated policy; undefined when it has problems of its own (already reported). */
  readonly policy: FirewallPolicy | undefined;
  /** The firewall as written, to name a service by its index in the author's list. */
  readonly rawFirewall: unknown;
  /** Checks a value now, or when it resolves if it is an Output (see ParseOptions.defer). */
  readonly later: (
    value: unknown,
    key: string,
    check: (f: Findings, key: string, v: unknown) => void,
  ) => unknown;
  readonly isDeferred: (value: unknown) => boolean;
}

export interface ParsedOpenClaw {
  readonly spec: OpenClawSpec;
  readonly secrets: OpenClawSecretInputs;
}

/**
 * Validates the `openclaw` block against the target and the policy; undefined when OpenClaw is
 * not installed. Problems and warnings go to `f`. Secret values are never put in a problem:
 * only their type or length.
 */
export function parseOpenClaw(
  f: Findings,
  raw: unknown,
  keys: OpenClawKeys,
  ctx: OpenClawContext,
): ParsedOpenClaw | undefined {
  const block = keys.block;
  const at = (name: string) =>
    (OPENCLAW_SECRETS as readonly string[]).includes(name)
      ? keys.secret(name as OpenClawSecretName)
      : `${block}.${name}`;
  if (raw !== undefined && !isRecord(raw, ctx)) {
    f.fail(
      block,
      ctx.isDeferred(raw) ? "(an Output or a Promise)" : raw,
      "is not an object",
      `an object with ${KNOWN.join(", ")} (see docs/configuration.md, OpenClawArgs)`,
    );
    return undefined;
  }
  const o: Record<string, unknown> = raw ?? {};
  for (const name of Object.keys(o)) {
    if ((KNOWN as readonly string[]).includes(name)) continue;
    // Only the name: a misspelt gatewayToken holds the token.
    const guess = closestName(name, KNOWN);
    f.fail(
      `${block}.${name}`,
      name,
      guess ? `is not a known key; did you mean ${at(guess)}?` : "is not a known key",
      `one of ${KNOWN.map(at).join(", ")}`,
    );
  }

  const enabled = bool(f, at("enabled"), o["enabled"], ctx.cloud);
  const removeOnDestroy = bool(f, at("removeOnDestroy"), o["removeOnDestroy"], ctx.cloud);
  const keepReleases = count(f, at("keepReleases"), o["keepReleases"]);
  const version = exactVersion(f, at("version"), o["version"], DEFAULT_OPENCLAW_VERSION, "2026.9.6");
  const declaredPort = o["port"] === undefined ? undefined : port(f, at("port"), o["port"]);
  const npmRegistry = url(f, at("npmRegistry"), o["npmRegistry"], DEFAULT_NPM_REGISTRY);
  if (npmRegistry.startsWith("http://")) {
    f.warn(
      at("npmRegistry"),
      `is plain HTTP: npm checks each package against the integrity the same registry serves, so ` +
        `anyone on the way could change both; use https:// unless the registry is on a network you trust`,
    );
  }
  const node = parseNode(f, `${block}.node`, o["node"], ctx);
  const https =
    o["https"] === undefined
      ? undefined
      : parseHttpsValues(f, `${block}.https`, o["https"], (v): v is Record<string, unknown> =>
          isRecord(v, ctx),
        );
  const secrets = parseSecrets(f, o, at, ctx);

  if (!enabled) {
    const set = Object.keys(o).filter((k) => k !== "enabled" && (KNOWN as readonly string[]).includes(k));
    if (o["enabled"] === undefined && set.length > 0) {
      f.warn(
        block,
        `sets ${set.map(at).join(", ")}, but OpenClaw is not installed: it is off by default on an ` +
          `existing host (which may run OpenClaw already); add enabled: true to install it`,
      );
    }
    return undefined;
  }
  if (!ctx.policy) return undefined;
  const gateway = gatewayPort(f, keys, ctx, declaredPort, at("port"));
  if (gateway === undefined || node === undefined) return undefined;
  if (o["https"] !== undefined && https === undefined) return undefined;

  const policy = ctx.policy;
  if (policy.ssh.ports.some((r) => covers(r, gateway))) {
    f.fail(at("port"), gateway, "is the SSH port", `a port sshd does not use, e.g. ${DEFAULT_GATEWAY_PORT}`);
    return undefined;
  }
  const sources = https && httpsSources(f, keys, ctx, at("https"), gateway);
  if (https && !sources) return undefined;
  const exposing = policy.services.filter(
    (s) => s.protocol === "tcp" && s.ports.some((r) => covers(r, gateway)),
  );
  const exposedTo = [
    ...new Set(exposing.flatMap((s) => s.sources.filter((c) => c.family === 4).map((c) => c.text))),
  ];
  // OpenClaw 2026.9 listens on 0.0.0.0 when bound to the LAN, and refuses `::` as a custom bind
  // (measured on the booted host): IPv6 clients the firewall admits find nothing listening.
  const v6 = exposing.flatMap((s) => s.sources.filter((c) => c.family === 6).map((c) => c.text));
  if (v6.length > 0) {
    f.warn(
      serviceKey(keys.firewall, ctx.rawFirewall, exposing[0]!.name),
      `admits the gateway's port ${gateway} from IPv6 (${[...new Set(v6)].join(", ")}), but OpenClaw ` +
        `listens on IPv4 only (0.0.0.0) when exposed: those clients are refused. Reach it over ` +
        `IPv4, or through the SSH tunnel (sshTunnelCommand), which works over either`,
    );
  }
  const mdns = policy.services.some((s) => s.protocol === "udp" && s.ports.some((r) => covers(r, 5353)));
  // OpenClaw keeps browser control on loopback whatever the policy says.
  const browser = gateway + 2;
  for (const s of policy.services) {
    if (s.protocol !== "tcp" || !s.ports.some((r) => covers(r, browser))) continue;
    f.warn(
      serviceKey(keys.firewall, ctx.rawFirewall, s.name),
      `admits TCP port ${browser}, OpenClaw's browser control (the gateway's port + 2), which ` +
        `OpenClaw keeps on loopback: nothing of OpenClaw's answers there from outside`,
    );
  }
  return {
    spec: {
      version,
      port: gateway,
      bind: exposing.length > 0 ? "lan" : "loopback",
      exposedTo,
      mdns,
      npmRegistry,
      node,
      removeOnDestroy,
      keepReleases,
      ...(https && sources ? { https: { ...https, sources } } : {}),
    },
    secrets,
  };
}

/** Who may reach the proxy, once the policy is checked for what `https` asks of it. */
function httpsSources(
  f: Findings,
  keys: OpenClawKeys,
  ctx: OpenClawContext,
  httpsKey: string,
  gateway: number,
): string[] | undefined {
  return checkHttpsPolicy(
    f,
    {
      firewall: keys.firewall,
      https: httpsKey,
      service: (name) => serviceKey(keys.firewall, ctx.rawFirewall, name),
      portField: (name) => {
        const written = rawService(ctx.rawFirewall, name) ?? {};
        return ["port", "ports", "portRanges"].find((k) => written[k] !== undefined) ?? "port";
      },
    },
    ctx.policy!,
    gateway,
  );
}

/**
 * The gateway's port: the one TCP port of the policy's `openclaw-gateway` service when there is
 * one (the block's `port` must then agree), else the block's, else 18789.
 */
function gatewayPort(
  f: Findings,
  keys: OpenClawKeys,
  ctx: OpenClawContext,
  declared: number | undefined,
  portKey: string,
): number | undefined {
  const service = ctx.policy!.services.find((s) => s.name === GATEWAY_SERVICE);
  if (!service) return declared ?? DEFAULT_GATEWAY_PORT;
  const key = serviceKey(keys.firewall, ctx.rawFirewall, GATEWAY_SERVICE);
  const written = rawService(ctx.rawFirewall, GATEWAY_SERVICE) ?? {};
  const field = ["port", "ports", "portRanges"].find((k) => written[k] !== undefined) ?? "port";
  const ports = describePorts(service);
  if (service.protocol !== "tcp") {
    f.fail(
      `${key}.protocol`,
      service.protocol,
      `is not the gateway's protocol: the service named ${GATEWAY_SERVICE} is the gateway's port`,
      `tcp, or another name for this service`,
    );
    return undefined;
  }
  const only = service.ports[0]!;
  if (service.ports.length !== 1 || only.from !== only.to) {
    f.fail(
      `${key}.${field}`,
      ports,
      `is more than one port, but the service named ${GATEWAY_SERVICE} is the gateway's one port`,
      `one TCP port (port: ${declared ?? DEFAULT_GATEWAY_PORT}); other ports go in a service of another name`,
    );
    return undefined;
  }
  if (declared !== undefined && declared !== only.from) {
    f.fail(
      portKey,
      declared,
      `differs from ${key}.${field} (${only.from}): the port of the policy's ${GATEWAY_SERVICE} service is the gateway's port`,
      `the same port in both, or ${portKey} left unset (the gateway then listens on ${only.from})`,
    );
    return undefined;
  }
  return only.from;
}

function parseNode(f: Findings, key: string, raw: unknown, ctx: OpenClawContext): NodeSource | undefined {
  if (raw === undefined)
    return { kind: "tarball", version: DEFAULT_NODE_VERSION, distUrl: DEFAULT_NODE_DIST_URL };
  if (!isRecord(raw, ctx)) {
    f.fail(key, raw, "is not an object", `an object with ${NODE_KNOWN.join(", ")}`);
    return undefined;
  }
  const before = f.problems.length;
  for (const name of Object.keys(raw)) {
    if ((NODE_KNOWN as readonly string[]).includes(name)) continue;
    const guess = closestName(name, NODE_KNOWN);
    f.fail(
      `${key}.${name}`,
      name,
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${NODE_KNOWN.join(", ")}`,
    );
  }
  const version = exactVersion(
    f,
    `${key}.version`,
    raw["version"],
    DEFAULT_NODE_VERSION,
    DEFAULT_NODE_VERSION,
  );
  if (
    raw["version"] !== undefined &&
    f.problems.length === before &&
    !semver.satisfies(version, OPENCLAW_NODE_ENGINES)
  ) {
    f.fail(
      `${key}.version`,
      version,
      "does not satisfy OpenClaw's engines",
      `a Node version in ${OPENCLAW_NODE_ENGINES}, e.g. ${DEFAULT_NODE_VERSION}`,
    );
  }
  if (raw["aptSource"] !== undefined) {
    for (const name of ["distUrl", "sha256"]) {
      if (raw[name] !== undefined) {
        f.fail(
          `${key}.${name}`,
          raw[name],
          "is only used for the tarball source, but aptSource is set",
          `either aptSource (with aptKey) or distUrl and sha256`,
        );
      }
    }
    const source = checkAptSource(f, `${key}.aptSource`, raw["aptSource"], raw["aptKey"] !== undefined);
    const aptKey = raw["aptKey"] === undefined ? undefined : checkAptKey(f, `${key}.aptKey`, raw["aptKey"]);
    if (f.problems.length > before) return undefined;
    return {
      kind: "apt",
      version,
      source: source!,
      ...(aptKey === undefined ? {} : { key: aptKey }),
    };
  }
  if (raw["aptKey"] !== undefined) {
    f.fail(`${key}.aptKey`, "(a key)", "is only used with aptSource", `aptSource with it, or no aptKey`);
  }
  const distUrl = url(f, `${key}.distUrl`, raw["distUrl"], DEFAULT_NODE_DIST_URL);
  const sha = raw["sha256"];
  if (sha !== undefined && (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha))) {
    f.fail(`${key}.sha256`, sha, "is not a SHA-256 digest", "64 hexadecimal digits, as in SHASUMS256.txt");
  }
  // Over plain HTTP, SHASUMS256.txt comes down the same unprotected path as the tarball it
  // vouches for, and the Node it installs runs as root on the host.
  if (sha === undefined && distUrl.startsWith("http://")) {
    f.fail(
      `${key}.distUrl`,
      distUrl,
      "is plain HTTP and no sha256 is pinned: anyone on the way could change the tarball and its checksum file alike",
      `an https:// URL, or ${key}.sha256 set to the tarball's digest`,
    );
  }
  if (f.problems.length > before) return undefined;
  return {
    kind: "tarball",
    version,
    distUrl,
    ...(sha === undefined ? {} : { sha256: (sha as string).toLowerCase() }),
  };
}

function parseSecrets(
  f: Findings,
  o: Record<string, unknown>,
  at: (name: string) => string,
  ctx: OpenClawContext,
): OpenClawSecretInputs {
  const secrets: { [K in OpenClawSecretName]?: pulumi.Input<string> } = {};
  for (const name of OPENCLAW_SECRETS) {
    const value = o[name];
    if (value === undefined) continue;
    if (!ctx.isDeferred(value) && typeof value !== "string") {
      f.fail(
        at(name),
        `(a ${value === null ? "null" : typeof value})`,
        "is not text",
        "a string or a secret Output",
      );
      continue;
    }
    secrets[name] = ctx.later(
      value,
      at(name),
      name === "gatewayToken" ? checkToken : checkNotEmpty,
    ) as pulumi.Input<string>;
  }
  return secrets;
}

/**
 * Why a secret cannot go into the host's environment file as it is, or undefined. A line break
 * would end its line there, and a command substitution on the host strips a trailing one, so
 * the host would hold another value than the stack; a space at either end is a paste mistake.
 * Never the value: where in it the problem is.
 */
function unusable(v: string): string | undefined {
  const control = [...v].findIndex((c) => c < " " || c === "\u007f");
  if (control >= 0) return `holds a control character (a line break or tab?) at position ${control + 1}`;
  if (v.trim() !== v) return "starts or ends with a space";
  return undefined;
}

/** Never the token itself: its length says what is wrong. */
const checkToken = (f: Findings, key: string, v: unknown): void => {
  const problem = typeof v === "string" ? unusable(v) : undefined;
  if (typeof v !== "string") {
    f.fail(key, `(a ${typeof v})`, "is not text", "a string");
  } else if (problem) {
    f.fail(key, `(a secret of ${v.length} characters)`, problem, "printable text, as given by the provider");
  } else if (v.length < MIN_GATEWAY_TOKEN_LENGTH) {
    f.fail(
      key,
      `(a secret of ${v.length} characters)`,
      "is too short to resist guessing",
      `at least ${MIN_GATEWAY_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 24; or leave it unset to have one generated`,
    );
  }
};

const checkNotEmpty = (f: Findings, key: string, v: unknown): void => {
  const problem = typeof v === "string" ? unusable(v) : undefined;
  if (typeof v !== "string") f.fail(key, `(a ${typeof v})`, "is not text", "a string");
  else if (v.length === 0) f.fail(key, "", "is empty", "the API key, or leave it unset");
  else if (problem)
    f.fail(key, `(a secret of ${v.length} characters)`, problem, "the API key as the provider gives it");
};

function exactVersion(f: Findings, key: string, raw: unknown, fallback: string, example: string): string {
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || semver.valid(raw) !== raw) {
    f.fail(
      key,
      raw,
      typeof raw === "string" && semver.validRange(raw)
        ? "is a range, not one version"
        : "is not an exact version",
      `an exact version such as ${example} (no range, no tag such as latest, no leading v)`,
    );
    return fallback;
  }
  return raw;
}

/** How many releases to keep: a whole number from 1 to 100, default DEFAULT_KEEP_RELEASES. */
function count(f: Findings, key: string, raw: unknown): number {
  if (raw === undefined) return DEFAULT_KEEP_RELEASES;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 1 || raw > 100) {
    f.fail(
      key,
      raw,
      "is not a whole number from 1 to 100",
      `how many releases (and recovery points) the host keeps, the one in service among them, e.g. ${DEFAULT_KEEP_RELEASES}`,
    );
    return DEFAULT_KEEP_RELEASES;
  }
  return raw;
}

function port(f: Findings, key: string, raw: unknown): number | undefined {
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 1 || raw > 65535) {
    f.fail(key, raw, "is not a port", `a port from 1 to 65535, e.g. ${DEFAULT_GATEWAY_PORT}`);
    return undefined;
  }
  return raw;
}

/** An http(s) base URL, with a trailing slash; credentials are refused and never echoed. */
function url(f: Findings, key: string, raw: unknown, fallback: string): string {
  if (raw === undefined) return fallback;
  const parsed = checkUrl(f, key, raw, {
    schemes: ["https:", "http:"],
    accepted:
      "an http or https base URL without credentials, query or fragment, e.g. https://registry.example.com/npm/",
    badScheme: () => "is not an http or https URL",
  });
  if (!parsed) return fallback;
  return parsed.href.endsWith("/") ? parsed.href : `${parsed.href}/`;
}

function covers(r: { from: number; to: number }, port: number): boolean {
  return r.from <= port && port <= r.to;
}

function describePorts(s: Service): string {
  return s.ports.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(", ");
}

/** The service as the author wrote it, found by its (unique) name. */
function rawService(rawFirewall: unknown, name: string): Record<string, unknown> | undefined {
  const services = (rawFirewall as { services?: unknown } | undefined)?.services;
  if (!Array.isArray(services)) return undefined;
  return services.find(
    (s): s is Record<string, unknown> =>
      typeof s === "object" && s !== null && (s as { name?: unknown }).name === name,
  );
}

/** `<firewall>.services[i]`, i the service's place in the author's list (the policy sorts them). */
function serviceKey(firewall: string, rawFirewall: unknown, name: string): string {
  const services = (rawFirewall as { services?: unknown } | undefined)?.services;
  const i = Array.isArray(services)
    ? services.findIndex(
        (s) => typeof s === "object" && s !== null && (s as { name?: unknown }).name === name,
      )
    : -1;
  return `${firewall}.services[${i}]`;
}

function isRecord(v: unknown, ctx: OpenClawContext): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ctx.isDeferred(v);
}
