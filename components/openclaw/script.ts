import * as fs from "node:fs";
import * as path from "node:path";
import { OPENCLAW_HOST, type OpenClawSecretValues, type OpenClawSpec } from "./types";
import {
  OPENCLAW_CONFIG_FILE,
  OPENCLAW_UNIT_PATH,
  nodeBinary,
  openclawServiceEnvironment,
  renderOpenClawUnit,
} from "./systemdUnit";
import { assign } from "../hardening/script";

// Real files, so they can be read, linted and run on their own; rendered verbatim.
const LIBRARY = fs.readFileSync(path.join(__dirname, "openclaw.sh"), "utf8");
const HELPER = fs.readFileSync(path.join(__dirname, "openclaw_helper.cjs"), "utf8");

/** How long the install step waits for /healthz after a restart (the gateway starts in 15-30 s). */
export const OPENCLAW_HEALTH_TIMEOUT_SECONDS = 120;
/**
 * Where the install step keeps, per version, the state as that version left it (root, 0700): the
 * recovery point a downgrade or a rollback restores, since OpenClaw migrates its databases
 * forward and an older release refuses them.
 */
export const OPENCLAW_RECOVERY_DIR = OPENCLAW_HOST.recoveryDir;
/**
 * While the install step changes anything the running gateway depends on, what it needs to go
 * back: the previous release's name, its environment file, config and unit (root, 0700; removed
 * once the step succeeds or has gone back).
 */
export const OPENCLAW_KEPT_DIR = `${OPENCLAW_RECOVERY_DIR}/.before-step`;
/** Where the install step writes once its session is gone (root, 0600): what it did after. */
export const OPENCLAW_STEP_LOG = "/var/log/openclaw-gateway-install.log";
/** The entry call that ends the install script, after the secrets. */
export const OPENCLAW_INSTALL_ENTRY = "install_main";

/**
 * With `https` on, the audit's checks about the proxy, the origins and auth: verify fails on any
 * finding of these at any severity, not only on critical ones. An entry ending in `_` matches
 * every checkId it starts. Read from `openclaw security audit` of 2026.9.6
 * (dist/audit-*.mjs, docs/gateway/security/audit-checks.md).
 */
export const HTTPS_AUDIT_CHECKS: readonly string[] = [
  "gateway.trusted_proxies_missing",
  "gateway.loopback_no_auth",
  "gateway.bind_no_auth",
  "gateway.real_ip_fallback_enabled",
  "gateway.trusted_proxy_",
  "gateway.control_ui.allowed_origins_required",
  "gateway.control_ui.allowed_origins_wildcard",
  "gateway.control_ui.host_header_origin_fallback",
  "gateway.token_placeholder_value",
  "gateway.token_too_short",
  "gateway.password_",
  "gateway.auth_no_rate_limit",
  "config.insecure_or_dangerous_flags",
];

/** The one origin the Control UI is served from behind the proxy, or "" without `https`. */
export function httpsOrigin(spec: Pick<OpenClawSpec, "https">): string {
  return spec.https ? `https://${spec.https.domain}` : "";
}

/**
 * Everything a step needs to know, as shell variables, then the library. No secrets, no call.
 * `host` is what only the install step needs: where the hardening keeps its state.
 */
function render(step: string, spec: OpenClawSpec, host?: { hardeningStateDir: string }): string {
  const node = spec.node;
  const globals: [string, string | number][] = [
    ["VERSION", spec.version],
    ["PORT", spec.port],
    ["BIND", spec.bind],
    ["MDNS", spec.mdns ? "yes" : "no"],
    ["NPM_REGISTRY", spec.npmRegistry],
    ["NODE_KIND", node.kind],
    ["NODE_VERSION", node.version],
    ["NODE_DIST_URL", node.kind === "tarball" ? node.distUrl : ""],
    ["NODE_SHA256", node.kind === "tarball" ? (node.sha256 ?? "") : ""],
    ["NODE_APT_SOURCE", node.kind === "apt" ? node.source : ""],
    ["NODE_APT_KEY", node.kind === "apt" ? (node.key ?? "") : ""],
    ["NODE_BIN", nodeBinary(spec)],
    ["NODE_ROOT", OPENCLAW_HOST.nodeRoot],
    ["RELEASES", OPENCLAW_HOST.releases],
    ["CURRENT", OPENCLAW_HOST.current],
    ["OC_USER", OPENCLAW_HOST.user],
    ["UNIT_NAME", OPENCLAW_HOST.unit],
    ["UNIT_PATH", OPENCLAW_UNIT_PATH],
    ["UNIT_TEXT", renderOpenClawUnit(spec).trimEnd()],
    ["ENV_FILE", OPENCLAW_HOST.envFile],
    ["STATE_DIR", OPENCLAW_HOST.stateDir],
    ["RECOVERY", OPENCLAW_RECOVERY_DIR],
    ["KEPT", OPENCLAW_KEPT_DIR],
    ["STEP_LOG", OPENCLAW_STEP_LOG],
    ["KEEP_RELEASES", spec.keepReleases],
    ...(host ? [["HARDENING_STATE_DIR", host.hardeningStateDir] as [string, string]] : []),
    ["CONFIG_FILE", OPENCLAW_CONFIG_FILE],
    ["HTTPS_ORIGIN", httpsOrigin(spec)],
    ["HTTPS_AUDIT_CHECKS", spec.https ? HTTPS_AUDIT_CHECKS.join(" ") : ""],
    ["SERVICE_ENV", openclawServiceEnvironment(spec).join("\n")],
    ["HEALTH_TIMEOUT", OPENCLAW_HEALTH_TIMEOUT_SECONDS],
    ["HELPER_JS", HELPER.trimEnd()],
  ];
  return [
    "#!/bin/bash",
    `# openclaw gateway: ${step}. Generated from the validated openclaw block; see components/openclaw/openclaw.sh.`,
    ...globals.map(([name, value]) => assign(name, value)),
    "",
    LIBRARY.trimEnd(),
    "",
  ].join("\n");
}

/**
 * The install step without its secrets and without its call: it runs nothing by itself. Send
 * `composeOpenClawInstall(renderOpenClawInstallScript(spec, stateDir), renderOpenClawSecrets(values))`
 * on stdin. Installs Node and the pinned OpenClaw, writes the environment file, config and
 * unit, restarts only when one of them or the version changed, and waits for /healthz. Once it
 * has changed anything the gateway runs with, any failure (its health check, a full disk, its
 * session dropping) puts back the previous release with its environment file, config and unit.
 * It refuses to give the gateway's user a directory holding `hardeningStateDir` (the
 * hardening's `stateDir`, where root's rollback lives). Its last stdout line is
 * `openclaw-version: <version>` (parseOpenClawVersion).
 */
export function renderOpenClawInstallScript(spec: OpenClawSpec, hardeningStateDir: string): string {
  return render("install", spec, { hardeningStateDir });
}

/**
 * The secrets as shell assignments (never exported, never a process argument on the host). Only
 * ever inside a Pulumi secret: this text holds the token.
 */
export function renderOpenClawSecrets(values: OpenClawSecretValues): string {
  if (!values.gatewayToken) throw new Error("the gateway token is empty");
  return [
    "# Secrets: plain shell variables, written to the 0600 environment file by printf.",
    assign("SECRET_GATEWAY_TOKEN", values.gatewayToken),
    assign("SECRET_ANTHROPIC_API_KEY", values.anthropicApiKey ?? ""),
    assign("SECRET_OPENAI_API_KEY", values.openaiApiKey ?? ""),
    "",
  ].join("\n");
}

/** The install step's stdin: the script, its secrets, then the one call. */
export function composeOpenClawInstall(script: string, secrets: string): string {
  return `${script}${secrets}${OPENCLAW_INSTALL_ENTRY}\n`;
}

/**
 * Checks the running gateway: the service active and enabled, /healthz, the listeners on the
 * port (loopback only, or every interface when exposed), the modes of the state, and
 * `openclaw security audit` run as the service runs: a critical finding fails with its checkId
 * and remediation, warnings are printed.
 */
export function renderOpenClawVerifyScript(spec: OpenClawSpec): string {
  return `${render("verify", spec)}verify_main\n`;
}

/**
 * Stops and removes the service, its releases, the Node it installed and the environment file;
 * keeps the state directory and the user (the operator's data).
 */
export function renderOpenClawRemoveScript(spec: OpenClawSpec): string {
  return `${render("remove", spec)}remove_main\n`;
}

/** The version the install step read back from the installed package (its last line). */
export function parseOpenClawVersion(stdout: string): string {
  const lines = stdout.trimEnd().split("\n");
  const match = /^openclaw-version: (\S+)$/.exec(lines[lines.length - 1] ?? "");
  if (!match) throw new Error("the install step printed no openclaw-version line");
  return match[1]!;
}
