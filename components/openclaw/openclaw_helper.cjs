// Run by openclaw.sh with the Node it installed: `node -e "$HELPER_JS" MODE ARGS...`.
//   config FILE PORT BIND [ORIGIN]
//                           sets the keys the install step owns in OpenClaw's config, keeping
//                           everything else the operator or the gateway wrote; prints changed
//                           or unchanged, and writes (atomically) only when something changed.
//                           ORIGIN (https://<domain>): the gateway is behind the HTTPS proxy
//   config-check FILE       exits 2, saying why, when FILE cannot be read as the config: checked
//                           before the service is stopped, so that nothing is left half-done
//   put FILE                writes stdin to FILE (0600) in one rename: a config put back
//   audit [CHECKS]          reads `openclaw security audit --json` on stdin, prints warnings
//                           and critical findings; exits 1 on any critical finding, and on any
//                           finding whose checkId is one of CHECKS (whitespace-separated; one
//                           ending in "_" matches every checkId it starts)
//   health URL TIMEOUT_MS   one GET; prints the body and exits 0 on a 2xx answer
//   version DIR             the version of the openclaw package installed under DIR
//   older-schema NEW OLD    exits 0 when the release in NEW declares an older state or agent
//                           database schema than the one in OLD: NEW cannot read what OLD wrote
/* global process, console, fetch, AbortSignal */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// Under `node -e` the arguments start at argv[1]; run as a file (node openclaw_helper.cjs), at argv[2].
const [mode, ...args] = process.argv.slice(require.main ? 2 : 1);

// The HTTPS proxy (Caddy) on the same host: it connects from loopback, over IPv4 or IPv6.
const LOOPBACK_PROXIES = ["127.0.0.1", "::1"];
const sameList = (a, b) => Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);

function config(file, port, bind, origin = "", check = false) {
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  let cfg;
  try {
    cfg = text.trim() ? JSON.parse(text) : {};
  } catch {
    console.error(`${file} is not plain JSON (JSON5 comments or trailing commas?); fix it or move it away`);
    process.exit(2);
  }
  const before = JSON.stringify(cfg);
  const gateway = (cfg.gateway ??= {});
  gateway.mode = "local";
  gateway.port = Number(port);
  gateway.bind = bind;
  delete gateway.customBindHost;
  const auth = (gateway.auth ??= {});
  auth.mode = "token";
  // The token is read from the service's environment file: it is never in this file.
  auth.token = { source: "env", provider: "default", id: "OPENCLAW_GATEWAY_TOKEN" };
  delete auth.password;
  // Failed logins are limited per client address; loopback stays exempt by OpenClaw's default.
  auth.rateLimit ??= { maxAttempts: 10, windowMs: 60000, lockoutMs: 300000 };
  const controlUi = (gateway.controlUi ??= {});
  // Retired in 2026.x and rejected by the current schema: insecure Control UI auth stays off.
  delete controlUi.allowInsecureAuth;
  delete controlUi.dangerouslyDisableDeviceAuth;
  if (origin) {
    // Behind the proxy: without trusting it, every client would come from loopback, and loopback
    // clients are paired automatically and never locked out. Trusted, the gateway reads the
    // client's own address from X-Forwarded-For, which Caddy sets (never X-Real-IP: no fallback).
    gateway.trustedProxies = [...LOOPBACK_PROXIES];
    delete gateway.allowRealIpFallback;
    controlUi.allowedOrigins = [origin];
    delete controlUi.dangerouslyAllowHostHeaderOriginFallback;
  } else if (sameList(gateway.trustedProxies, LOOPBACK_PROXIES)) {
    // https turned off: what the proxy needed goes with it, the origin it set with the proxies.
    delete gateway.trustedProxies;
    const origins = controlUi.allowedOrigins;
    if (Array.isArray(origins) && origins.length === 1 && /^https:\/\//.test(origins[0]))
      delete controlUi.allowedOrigins;
  }
  // A non-loopback bind without allowed origins is a critical audit finding: the origins of the
  // SSH tunnel (what the gateway itself seeds at start), unless the operator listed others.
  controlUi.allowedOrigins ??= [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  if (check) return;
  if (JSON.stringify(cfg) === before && text.trim()) {
    fs.chmodSync(file, 0o600);
    process.stdout.write("unchanged\n");
    return;
  }
  // Run as the service's user, in its own directory: "wx" never opens what is already there.
  const tmp = path.join(path.dirname(file), `.openclaw.json.${process.pid}`);
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, JSON.stringify(cfg, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, file);
  process.stdout.write("changed\n");
}

function put(file) {
  // Run as the service's user, in its own directory: "wx" never opens what is already there.
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}`);
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, fs.readFileSync(0), { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, file);
}

function audit(input, checks = "") {
  const forbidden = checks.split(/\s+/).filter(Boolean);
  const isForbidden = (id) =>
    forbidden.some((c) => id === c || (c.endsWith("_") && String(id).startsWith(c)));
  let report;
  try {
    report = JSON.parse(input);
  } catch {
    console.log("openclaw: FAILED: openclaw security audit printed no JSON report");
    process.exit(2);
  }
  if (report.ok === false || !Array.isArray(report.findings)) {
    const issues = (report.issues ?? []).map((i) => `${i.path}: ${i.message}`).join("; ");
    console.log(
      `openclaw: FAILED: openclaw security audit could not run: ${report.error?.message ?? "no findings"}${issues ? ` (${issues})` : ""}`,
    );
    process.exit(2);
  }
  const critical = report.findings.filter((f) => f.severity === "critical");
  for (const f of report.findings.filter((f) => f.severity === "warn")) {
    console.log(
      `openclaw: audit warning ${f.checkId}: ${f.title}${f.remediation ? `. Remediation: ${f.remediation}` : ""}`,
    );
  }
  for (const f of critical) {
    console.log(
      `openclaw: FAILED: critical audit finding ${f.checkId}: ${f.title}. Remediation: ${f.remediation ?? "see https://docs.openclaw.ai/gateway/security"}`,
    );
  }
  const flagged = report.findings.filter((f) => f.severity !== "critical" && isForbidden(f.checkId));
  for (const f of flagged) {
    console.log(
      `openclaw: FAILED: audit finding ${f.checkId} (${f.severity}) about the proxy, origins or auth, with https on: ${f.title}. Remediation: ${f.remediation ?? "see https://docs.openclaw.ai/gateway/security"}`,
    );
  }
  const s = report.summary ?? {};
  console.log(
    `openclaw: security audit: ${s.critical ?? critical.length} critical, ${s.warn ?? 0} warnings, ${s.info ?? 0} info`,
  );
  process.exit(critical.length || flagged.length ? 1 : 0);
}

async function health(url, timeoutMs) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(Number(timeoutMs)) });
    const body = await res.text();
    process.stdout.write(body.trim() + "\n");
    process.exit(res.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

function version(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "openclaw", "package.json"), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
}

function schemas(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "openclaw", "package.json"), "utf8"));
  return pkg.openclaw?.schemaVersions ?? {};
}

function olderSchema(newDir, oldDir) {
  const next = schemas(newDir);
  const prev = schemas(oldDir);
  const older = Object.keys(prev).some((k) => typeof next[k] === "number" && next[k] < prev[k]);
  process.exit(older ? 0 : 1);
}

if (mode === "config") config(args[0], args[1], args[2], args[3]);
else if (mode === "config-check") config(args[0], "0", "loopback", "", true);
else if (mode === "put") put(args[0]);
else if (mode === "audit") audit(fs.readFileSync(0, "utf8"), args[0]);
else if (mode === "health") void health(args[0], args[1]);
else if (mode === "version") version(args[0]);
else if (mode === "older-schema") olderSchema(args[0], args[1]);
else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
