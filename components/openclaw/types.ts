/**
 * OpenClaw on the server, validated: what the install and verify steps are rendered from.
 * Pure data, no secrets (those travel as Pulumi secrets, on stdin only), no Pulumi runtime.
 */
import * as path from "node:path";

/** The system user the gateway runs as, and the names of its unit and files on the host. */
export const OPENCLAW_HOST = {
  user: "openclaw",
  unit: "openclaw-gateway.service",
  /** Node distributions, one directory per version (tarball source). */
  nodeRoot: "/opt/openclaw/node",
  /** One npm prefix per OpenClaw version; `current` links to the one in service. */
  releases: "/opt/openclaw/releases",
  current: "/opt/openclaw/current",
  /** 0600 root: the token and provider keys, read by systemd for the service. */
  envFile: "/etc/openclaw/gateway.env",
  /** 0700 openclaw: OPENCLAW_STATE_DIR (openclaw.json, sessions, workspace). */
  stateDir: "/var/lib/openclaw-gateway",
  /** 0700 root: per version, the state as that version left it (copies of the gateway's files). */
  recoveryDir: "/var/lib/openclaw-gateway-recovery",
} as const;

/**
 * The directories the install step makes and fills, some of them for the gateway's user: Node,
 * the releases and `current` under the first, the environment file in the second, the state and
 * its recovery points. Nothing else may keep its state in, at or above one of them.
 */
export const OPENCLAW_DIRECTORIES: readonly string[] = [
  path.posix.dirname(OPENCLAW_HOST.nodeRoot),
  path.posix.dirname(OPENCLAW_HOST.envFile),
  OPENCLAW_HOST.stateDir,
  OPENCLAW_HOST.recoveryDir,
];

/** The policy service whose port is the gateway's. Any TCP service on that port exposes it. */
export const GATEWAY_SERVICE = "openclaw-gateway";
export const DEFAULT_GATEWAY_PORT = 18789;
/** The OpenClaw version installed when none is pinned: current on the npm registry (2026-11). */
export const DEFAULT_OPENCLAW_VERSION = "2026.9.6";
/** A Node that satisfies that version's engines (>=24.16.0 <25 || >=26.1.0). */
export const DEFAULT_NODE_VERSION = "24.22.3";
export const DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/";
export const DEFAULT_NODE_DIST_URL = "https://nodejs.org/dist/";
/** Releases (and recovery points) kept on the host: about 650 MB each, plus a copy of the state. */
export const DEFAULT_KEEP_RELEASES = 3;

/** Where Node comes from: an official tarball, its SHA-256 checked, or an apt repository. */
export type NodeSource =
  | {
      readonly kind: "tarball";
      readonly version: string;
      /** The distribution's base URL: `<distUrl>v<version>/node-v<version>-linux-<arch>.tar.xz`. */
      readonly distUrl: string;
      /** Pinned digest of the tarball; unset, the distribution's SHASUMS256.txt is used. */
      readonly sha256?: string;
    }
  | {
      readonly kind: "apt";
      readonly version: string;
      /** One-line apt source, e.g. `deb [signed-by=…] https://deb.nodesource.com/node_24.x nodistro main`. */
      readonly source: string;
      /** The repository's ASCII-armoured OpenPGP public key, written to the `signed-by` keyring. */
      readonly key?: string;
    };

export interface OpenClawSpec {
  /** Exact version on the registry, e.g. `2026.9.6`. */
  readonly version: string;
  readonly port: number;
  /** `lan` only when the policy admits TCP on `port` from somewhere; then token auth is required. */
  readonly bind: "loopback" | "lan";
  /**
   * Who reaches the gateway: the policy's IPv4 sources for its port (empty when loopback).
   * OpenClaw listens on IPv4 only when exposed; IPv6 sources get a warning instead.
   */
  readonly exposedTo: readonly string[];
  /** On only when the policy admits 5353/udp; otherwise OPENCLAW_DISABLE_BONJOUR=1. */
  readonly mdns: boolean;
  /** With a trailing slash. */
  readonly npmRegistry: string;
  readonly node: NodeSource;
  /** Destroying the component stops and removes the service (default: cloud yes, existing no). */
  readonly removeOnDestroy: boolean;
  /** Releases kept on the host, the one in service among them, and as many recovery points. */
  readonly keepReleases: number;
  /** The gateway behind Caddy over HTTPS on the operator's domain; unset, no proxy. */
  readonly https?: HttpsSpec;
}

/**
 * The policy service that says who may reach the proxy: 443/tcp. Required with `https`; the
 * gateway's own port then stays on loopback.
 */
export const HTTPS_SERVICE = "openclaw-https";
/**
 * The service `https` adds to the policy: 80/tcp from anywhere, for ACME's HTTP-01 challenge and
 * the redirect to HTTPS. Derived, never written by the operator; every layer renders it.
 */
export const ACME_HTTP_SERVICE = "openclaw-acme-http";
/** Let's Encrypt's production directory: the CA when none is given. */
export const DEFAULT_ACME_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** Where Caddy comes from: the distribution's own package, or an apt repository the stack names. */
export type CaddySource =
  | { readonly kind: "distribution" }
  | {
      readonly kind: "apt";
      /** One-line apt source, checked as Node's is (signed-by under a keyring directory). */
      readonly source: string;
      /** The repository's OpenPGP public key, written to the `signed-by` keyring. */
      readonly key?: string;
    };

/** HTTPS in front of the gateway: validated, pure data (no secrets in it). */
export interface HttpsSpec {
  /** Lower-case fully qualified domain name the certificate is for; the DNS record is the operator's. */
  readonly domain: string;
  /** The ACME account's contact address. */
  readonly email: string;
  /** The ACME directory URL (https). */
  readonly acmeDirectory: string;
  /**
   * PEM certificates, for a CA that public trust stores do not hold: the roots the ACME
   * directory's own TLS and the issued certificate chain to. Unset, the host's trust store.
   */
  readonly acmeRoot?: string;
  readonly caddy: CaddySource;
  /** Who may reach 443: the sources of the policy's `openclaw-https` service, as written there. */
  readonly sources: readonly string[];
}

/** The secret values the host gets on stdin, in the 0600 environment file. */
export interface OpenClawSecretValues {
  readonly gatewayToken: string;
  readonly anthropicApiKey?: string;
  readonly openaiApiKey?: string;
}
