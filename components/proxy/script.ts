import * as fs from "node:fs";
import * as path from "node:path";
import type { HttpsSpec } from "../openclaw/types";
import { assign } from "../hardening/script";
import { CADDYFILE_MARKER, CADDY_HOST, type CaddyOptions, renderCaddyfile } from "./caddyfile";

// A real file, so it can be read, linted and run on its own; rendered verbatim.
const LIBRARY = fs.readFileSync(path.join(__dirname, "caddy.sh"), "utf8");

/** How long apply waits for Caddy to obtain the certificate (ACME retries its first failure after a minute). */
export const CERT_TIMEOUT_SECONDS = 300;
/** A certificate with fewer days left fails verify, unless it is short-lived and not yet due (caddy.sh). */
export const MIN_DAYS_LEFT = 14;
/**
 * A due certificate still counts while Caddy's journal shows it renewing within this many
 * minutes: Caddy looks for due certificates every 10 minutes.
 */
export const RENEWAL_PENDING_MINUTES = 20;
/** While apply changes anything, what going back needs (root, 0700; removed once it is done). */
export const PROXY_KEPT_DIR = "/var/lib/openclaw-proxy/before-step";
/** Where apply writes once its session is gone: what it did after. */
export const PROXY_STEP_LOG = "/var/log/openclaw-proxy.log";
/** What a test may change besides Caddy's options: how long apply waits for the certificate. */
export interface ProxyScriptOptions extends CaddyOptions {
  /** Seconds; unset, CERT_TIMEOUT_SECONDS. A test of a failing CA need not wait five minutes. */
  readonly certTimeoutSeconds?: number;
}

/** The modes of the one script; the step's command text passes one to `bash -s`. */
export const PROXY_MODES = ["apply", "verify", "remove"] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

/**
 * The constant command text of a proxy step in `mode`: the script comes on stdin, the mode is
 * bash's one positional argument, so nothing declared appears in a command line.
 */
export function proxyShell(mode: ProxyMode): string {
  return `if [ "$(id -u)" -eq 0 ]; then exec /bin/bash -s ${mode}; else exec sudo -n /bin/bash -s ${mode}; fi`;
}

/** The script's inputs as `[NAME, value]`: everything caddy.sh reads, from the spec and the gateway's port. */
export function proxyGlobals(
  https: HttpsSpec,
  gatewayPort: number,
  options: ProxyScriptOptions = {},
): [string, string | number][] {
  const caddy = https.caddy;
  return [
    ["DOMAIN", https.domain],
    ["ACME_DIRECTORY", https.acmeDirectory],
    // PEM text: written to ACME_ROOT_FILE as it is, and openssl checks the chain against it.
    ["ACME_ROOT", https.acmeRoot?.trimEnd() ?? ""],
    ["ACME_ROOT_FILE", CADDY_HOST.acmeRootFile],
    ["GATEWAY_PORT", gatewayPort],
    // Where verify meets Caddy's listeners: on loopback, with the domain as SNI and Host.
    ["LOCAL_TLS", "127.0.0.1:443"],
    ["LOCAL_HTTP", "127.0.0.1:80"],
    ["CADDYFILE", CADDY_HOST.caddyfile],
    ["CADDYFILE_ORIGINAL", CADDY_HOST.original],
    ["CADDYFILE_MARKER", CADDYFILE_MARKER],
    ["CADDYFILE_TEXT", renderCaddyfile(https, gatewayPort, options).trimEnd()],
    ["CADDY_KIND", caddy.kind],
    ["CADDY_APT_SOURCE", caddy.kind === "apt" ? caddy.source : ""],
    ["CADDY_APT_KEY", caddy.kind === "apt" ? (caddy.key?.trimEnd() ?? "") : ""],
    ["CADDY_APT_LIST", CADDY_HOST.aptList],
    ["CADDY_UNIT", CADDY_HOST.unit],
    ["CADDY_USER", CADDY_HOST.user],
    ["CADDY_HOME", CADDY_HOST.home],
    ["CERT_TIMEOUT", options.certTimeoutSeconds ?? CERT_TIMEOUT_SECONDS],
    ["MIN_DAYS_LEFT", MIN_DAYS_LEFT],
    ["RENEWAL_PENDING_MINUTES", RENEWAL_PENDING_MINUTES],
    ["KEPT", PROXY_KEPT_DIR],
    ["STEP_LOG", PROXY_STEP_LOG],
  ];
}

/**
 * The proxy step's stdin: a header setting every global, caddy.sh, and one call,
 * `proxy_main "$@"`, which runs the mode `bash -s MODE` was given (proxyShell). The same text
 * serves apply (create, update), remove (delete, from the state's stdin) and verify. No secrets.
 * The component passes no `options`: Caddy's defaults.
 */
export function renderProxyScript(
  https: HttpsSpec,
  gatewayPort: number,
  options: ProxyScriptOptions = {},
): string {
  return [
    "#!/bin/bash",
    "# openclaw proxy (Caddy). Generated from the validated openclaw.https; see components/proxy/caddy.sh.",
    ...proxyGlobals(https, gatewayPort, options).map(([name, value]) => assign(name, value)),
    "",
    LIBRARY.trimEnd(),
    "",
    'proxy_main "$@"',
    "",
  ].join("\n");
}
