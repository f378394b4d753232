/**
 * The Caddyfile the proxy step writes, from the validated `openclaw.https` and the gateway's port.
 * Pure: no I/O, no Pulumi.
 */
import type { HttpsSpec } from "../openclaw/types";

/** Where Caddy and its files live on the host (Debian's and Ubuntu's `caddy` package). */
export const CADDY_HOST = {
  unit: "caddy.service",
  user: "caddy",
  /** The package's unit runs `caddy run --config` on this file. */
  caddyfile: "/etc/caddy/Caddyfile",
  /** The package's own Caddyfile, kept the first time ours replaces it, put back on removal. */
  original: "/etc/caddy/Caddyfile.before-openclaw",
  /** `acmeRoot`, when given: Caddy trusts it for the ACME directory's TLS (acme_ca_root). */
  acmeRootFile: "/etc/caddy/openclaw-acme-root.pem",
  /** The apt source line when Caddy comes from a repository the stack names. */
  aptList: "/etc/apt/sources.list.d/openclaw-caddy.list",
  /** Caddy's home: its certificates and ACME account, kept on removal (rate limits). */
  home: "/var/lib/caddy",
} as const;

/** The first line of every Caddyfile we write: what removal and the next step recognise as ours. */
export const CADDYFILE_MARKER =
  "# Managed by openclaw-server: changes here are replaced by the next proxy step.";

// What the Caddyfile reads as one plain token: nothing it would take for a quote, a block, a
// placeholder, a comment or a line break. parse.ts validates the values; this only refuses
// what would be read as something else.
const TOKEN = /^[A-Za-z0-9._~:/?&=%+@-]+$/;

function token(key: string, value: string): string {
  if (!TOKEN.test(value))
    throw new Error(`https.${key} ${JSON.stringify(value)} cannot be written to a Caddyfile as one token`);
  return value;
}

/** What the component leaves at Caddy's defaults, and a test of short-lived certificates sets. */
export interface CaddyOptions {
  /**
   * How often Caddy looks for certificates due for renewal (a Caddy duration, e.g. `10s`);
   * unset, Caddy's 10 minutes. Only a test with certificates living minutes needs it shorter.
   */
  readonly renewInterval?: string;
}

/**
 * Global options: the ACME account's email and CA (and its root, when the public trust stores do
 * not hold it), the admin endpoint off (nothing local may reconfigure the proxy; the step restarts
 * Caddy instead of reloading it), HTTP/1.1 and HTTP/2 only (HTTP/3 would listen on UDP 443, which
 * no layer admits). One site: the domain, proxied to the gateway on loopback. Caddy's reverse_proxy
 * passes WebSocket upgrades through, and sets X-Forwarded-For to the client's own address: it
 * trusts no incoming X-Forwarded-For unless told of trusted proxies, which it is not. Automatic
 * HTTPS answers HTTP-01 on port 80 and redirects everything else there to https.
 */
export function renderCaddyfile(https: HttpsSpec, gatewayPort: number, options: CaddyOptions = {}): string {
  if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65535) {
    throw new Error(`the gateway port ${gatewayPort} is not a TCP port`);
  }
  return [
    CADDYFILE_MARKER,
    "{",
    `\temail ${token("email", https.email)}`,
    `\tacme_ca ${token("acmeDirectory", https.acmeDirectory)}`,
    ...(https.acmeRoot ? [`\tacme_ca_root ${CADDY_HOST.acmeRootFile}`] : []),
    ...(options.renewInterval ? [`\trenew_interval ${token("renewInterval", options.renewInterval)}`] : []),
    "\tadmin off",
    "\tservers {",
    "\t\tprotocols h1 h2",
    "\t}",
    "}",
    "",
    `${token("domain", https.domain)} {`,
    `\treverse_proxy 127.0.0.1:${gatewayPort}`,
    // The gateway leaves HSTS to the proxy that terminates TLS (OpenClaw's network-exposure docs).
    '\theader Strict-Transport-Security "max-age=31536000"',
    "}",
    "",
  ].join("\n");
}
