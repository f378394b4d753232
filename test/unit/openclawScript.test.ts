import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { type SpawnSyncReturns, execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bash51 } from "../support/openclaw/bash51";
import { cannotRun } from "../support/cannotRun";
import { ARMOURED_PUBLIC_KEY } from "../support/openclaw/openpgpKeys";
import { analyzeUnit, hasSystemdAnalyze } from "../support/systemdAnalyze";
import {
  HTTPS_AUDIT_CHECKS,
  OPENCLAW_INSTALL_ENTRY,
  composeOpenClawInstall,
  parseOpenClawVersion,
  renderOpenClawInstallScript,
  renderOpenClawRemoveScript,
  renderOpenClawSecrets,
  renderOpenClawVerifyScript,
} from "../../components/openclaw/script";
import { HOST_DEFAULTS } from "../../components/hardening/options";
import { nodeBinary, renderOpenClawUnit } from "../../components/openclaw/systemdUnit";
import {
  DEFAULT_NODE_DIST_URL,
  DEFAULT_NPM_REGISTRY,
  OPENCLAW_HOST,
  type OpenClawSpec,
} from "../../components/openclaw/types";

const HOST = path.join(__dirname, "../../components/openclaw");
const LIBRARY = fs.readFileSync(path.join(HOST, "openclaw.sh"), "utf8");
const HELPER = fs.readFileSync(path.join(HOST, "openclaw_helper.cjs"), "utf8");
/** The helper as the host runs it: `node -e "$HELPER_JS" MODE ARGS`. */
const helper = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["-e", HELPER, ...args], { encoding: "utf8", input });

const SPEC: OpenClawSpec = {
  version: "2026.9.6",
  port: 18789,
  bind: "lan",
  exposedTo: ["192.168.1.0/24"],
  mdns: false,
  npmRegistry: DEFAULT_NPM_REGISTRY,
  node: { kind: "tarball", version: "24.22.3", distUrl: DEFAULT_NODE_DIST_URL },
  removeOnDestroy: true,
  keepReleases: 3,
};
/** The hardening's state directory, as the component passes it to the install step. */
const HARDENING = HOST_DEFAULTS.stateDir;
const APT_SPEC: OpenClawSpec = {
  ...SPEC,
  bind: "loopback",
  exposedTo: [],
  node: {
    kind: "apt",
    version: "24.22.3",
    source:
      "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_24.x nodistro main",
    key: "-----BEGIN PGP PUBLIC KEY BLOCK-----\nxyz\n-----END PGP PUBLIC KEY BLOCK-----",
  },
};
// Characters a shell or systemd would treat specially, and one the renderer must quote.
const TOKEN = `tok'en"with$dollar\`tick\\slash and space ${"z".repeat(20)}`;
const SECRETS = { gatewayToken: TOKEN, anthropicApiKey: "sk-ant-SECRET1", openaiApiKey: "sk-openai-SECRET2" };

const bashN = (script: string) => spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
/** Runs `body` with the library's functions defined, in bash, with PATH limited to the system's. */
function withLibrary(body: string, env: Record<string, string> = {}) {
  return spawnSync("bash", ["-c", `${LIBRARY}\n${body}`], {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
  });
}

test("every script is valid bash; install alone runs nothing, verify and remove end in one call", () => {
  for (const spec of [SPEC, APT_SPEC]) {
    const install = renderOpenClawInstallScript(spec, HARDENING);
    for (const script of [
      install,
      composeOpenClawInstall(install, renderOpenClawSecrets(SECRETS)),
      renderOpenClawVerifyScript(spec),
      renderOpenClawRemoveScript(spec),
    ]) {
      const check = bashN(script);
      assert.equal(check.status, 0, check.stderr);
    }
    assert.equal(renderOpenClawVerifyScript(spec).trimEnd().split("\n").at(-1), "verify_main");
    assert.equal(renderOpenClawRemoveScript(spec).trimEnd().split("\n").at(-1), "remove_main");
    // Without its secrets and call, the install script only defines: it prints and changes nothing.
    const run = spawnSync("bash", ["-s"], {
      input: install,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    assert.deepEqual([run.status, run.stdout, run.stderr], [0, "", ""]);
  }
});

test("the secrets are only in the secrets part, which comes after the library and before the call", () => {
  const install = renderOpenClawInstallScript(SPEC, HARDENING);
  const secrets = renderOpenClawSecrets(SECRETS);
  for (const value of Object.values(SECRETS)) {
    assert.ok(!install.includes(value), "a secret in the install script");
    assert.ok(!renderOpenClawVerifyScript(SPEC).includes(value));
    assert.ok(secrets.includes(value));
  }
  const composed = composeOpenClawInstall(install, secrets);
  assert.ok(composed.startsWith(install));
  assert.equal(composed.slice(install.length), `${secrets}${OPENCLAW_INSTALL_ENTRY}\n`);
  // The assignments give back exactly the values, through bash's own parsing.
  const echoed = spawnSync(
    "bash",
    ["-c", `${secrets}\nprintf '%s\\n' "$SECRET_GATEWAY_TOKEN" "$SECRET_OPENAI_API_KEY"`],
    {
      encoding: "utf8",
    },
  );
  assert.equal(echoed.stdout, `${TOKEN}\nsk-openai-SECRET2\n`);
  assert.match(renderOpenClawSecrets({ gatewayToken: "t" }), /^SECRET_ANTHROPIC_API_KEY=''$/m);
  assert.throws(() => renderOpenClawSecrets({ gatewayToken: "" }), /empty/);
});

test("the output is deterministic and carries the spec", () => {
  assert.equal(
    renderOpenClawInstallScript(SPEC, HARDENING),
    renderOpenClawInstallScript({ ...SPEC }, HARDENING),
  );
  const script = renderOpenClawInstallScript(SPEC, HARDENING);
  for (const line of [
    "VERSION='2026.9.6'",
    "PORT='18789'",
    "BIND='lan'",
    "MDNS='no'",
    "NODE_KIND='tarball'",
    `NODE_BIN='${OPENCLAW_HOST.nodeRoot}/24.22.3/bin/node'`,
    "NPM_REGISTRY='https://registry.npmjs.org/'",
  ]) {
    assert.ok(script.split("\n").includes(line), `${line} missing`);
  }
  assert.ok(
    renderOpenClawInstallScript(APT_SPEC, HARDENING).split("\n").includes("NODE_BIN='/usr/bin/node'"),
  );
});

test("the library assigns no globals, and the header assigns every global it reads", () => {
  assert.deepEqual(LIBRARY.match(/^[A-Za-z_][A-Za-z0-9_]*=/gm), null);
  const read = new Set([...LIBRARY.matchAll(/\$\{?([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
  const header = renderOpenClawInstallScript(SPEC, HARDENING).split(LIBRARY.trimEnd())[0]!;
  const assigned = new Set([...header.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
  const secrets = new Set(
    [...renderOpenClawSecrets(SECRETS).matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!),
  );
  const missing = [...read].filter(
    (v) => !assigned.has(v) && !secrets.has(v) && !["PATH", "SECONDS"].includes(v),
  );
  assert.deepEqual(missing, []);
});

test("the environment file: systemd's quoting, no line breaks, Bonjour off unless mDNS", () => {
  const run = withLibrary("env_file_content", {
    SECRET_GATEWAY_TOKEN: TOKEN,
    SECRET_ANTHROPIC_API_KEY: "",
    SECRET_OPENAI_API_KEY: "sk-x",
    MDNS: "no",
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(1), ['OPENAI_API_KEY="sk-x"', "OPENCLAW_DISABLE_BONJOUR=1"]);
  // Inside double quotes, systemd (like a shell) takes \\ \" \$ \` as the character itself.
  const back = spawnSync("bash", ["-c", `${lines[0]}; printf '%s' "$OPENCLAW_GATEWAY_TOKEN"`], {
    encoding: "utf8",
  });
  assert.equal(back.stdout, TOKEN);
  const mdns = withLibrary("env_file_content", { SECRET_GATEWAY_TOKEN: "t", MDNS: "yes" });
  assert.equal(mdns.stdout, 'OPENCLAW_GATEWAY_TOKEN="t"\n');
  const broken = withLibrary("env_file_content", { SECRET_GATEWAY_TOKEN: "a\nb", MDNS: "no" });
  assert.notEqual(broken.status, 0);
  assert.match(broken.stderr, /OPENCLAW_GATEWAY_TOKEN contains a line break/);
  assert.ok(!broken.stderr.includes("a\nb"));
});

test("the environment file is written 0600 root, once: the same content again is unchanged", (t) => {
  if (process.getuid?.() !== 0) {
    cannotRun(t, "needs root (the file is root's)");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-env-"));
  try {
    const env = { SECRET_GATEWAY_TOKEN: TOKEN, MDNS: "no", ENV_FILE: path.join(dir, "etc", "gateway.env") };
    const write = () => withLibrary("umask 077; write_env_file", env);
    assert.equal(write().stdout, "changed\n");
    assert.equal(fs.statSync(env.ENV_FILE).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(env.ENV_FILE)).mode & 0o777, 0o700);
    assert.equal(write().stdout, "unchanged\n");
    fs.chmodSync(env.ENV_FILE, 0o644);
    assert.equal(write().stdout, "changed\n", "a wrong mode is repaired");
    assert.equal(
      withLibrary("write_env_file", { ...env, SECRET_GATEWAY_TOKEN: "other" }).stdout,
      "changed\n",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the config helper sets the keys it owns, keeps the rest, writes only on change", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-cfg-"));
  const file = path.join(dir, "openclaw.json");
  const run = (bind: string, port = "18789") => helper(["config", file, port, bind]);
  try {
    assert.equal(run("loopback").stdout, "changed\n");
    const first = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.deepEqual(first.gateway.auth.token, {
      source: "env",
      provider: "default",
      id: "OPENCLAW_GATEWAY_TOKEN",
    });
    assert.equal(first.gateway.bind, "loopback");
    assert.equal(first.gateway.mode, "local");
    assert.deepEqual(first.gateway.controlUi, {
      allowedOrigins: ["http://localhost:18789", "http://127.0.0.1:18789"],
    });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const mtime = fs.statSync(file).mtimeMs;
    assert.equal(run("loopback").stdout, "unchanged\n");
    assert.equal(fs.statSync(file).mtimeMs, mtime, "rewritten though unchanged");
    // What the gateway or the operator adds stays; retired insecure keys and a password go.
    first.agents = { entries: { main: {} } };
    first.gateway.controlUi = { allowInsecureAuth: true, allowedOrigins: ["https://ui.example.com"] };
    first.gateway.auth.password = "pw";
    fs.writeFileSync(file, JSON.stringify(first));
    assert.equal(run("lan", "18800").stdout, "changed\n");
    const second = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.deepEqual(second.agents, { entries: { main: {} } });
    assert.deepEqual(second.gateway.controlUi, { allowedOrigins: ["https://ui.example.com"] });
    assert.equal(second.gateway.auth.password, undefined);
    assert.deepEqual([second.gateway.bind, second.gateway.port], ["lan", 18800]);
    // A mode the operator loosened is tightened even when nothing else changes.
    fs.chmodSync(file, 0o644);
    assert.equal(run("lan", "18800").stdout, "unchanged\n");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    // The check run before the service stops: a readable config passes and is left as it is.
    const text = fs.readFileSync(file, "utf8");
    assert.equal(helper(["config-check", file]).status, 0);
    assert.equal(fs.readFileSync(file, "utf8"), text);
    fs.writeFileSync(file, "{ // json5\n}");
    for (const bad of [run("lan"), helper(["config-check", file])]) {
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /is not plain JSON/);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "{ // json5\n}");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the audit helper prints warnings and fails on a critical finding with its checkId and remediation", () => {
  const audit = (report: unknown) => helper(["audit"], JSON.stringify(report));
  // The shape `openclaw security audit --json` prints (2026.9.6).
  const findings = [
    { checkId: "summary.attack_surface", severity: "info", title: "Attack surface summary", detail: "..." },
    {
      checkId: "gateway.auth_no_rate_limit",
      severity: "warn",
      title: "No auth rate limiting configured",
      remediation: "Set gateway.auth.rateLimit",
    },
  ];
  const clean = audit({ summary: { critical: 0, warn: 1, info: 1 }, findings });
  assert.equal(clean.status, 0);
  assert.match(clean.stdout, /audit warning gateway\.auth_no_rate_limit: No auth rate limiting configured/);
  assert.match(clean.stdout, /0 critical, 1 warnings, 1 info/);
  const critical = audit({
    summary: { critical: 1, warn: 1, info: 1 },
    findings: [
      ...findings,
      {
        checkId: "fs.config.perms_writable",
        severity: "critical",
        title: "Config file is writable by others",
        remediation: "chmod 600 /var/lib/openclaw-gateway/openclaw.json",
      },
    ],
  });
  assert.equal(critical.status, 1);
  assert.match(
    critical.stdout,
    /FAILED: critical audit finding fs\.config\.perms_writable: .*Remediation: chmod 600 \/var\/lib\/openclaw-gateway\/openclaw\.json/,
  );
  const invalid = audit({
    ok: false,
    error: { message: "OpenClaw config is invalid" },
    issues: [{ path: "gateway", message: "x" }],
  });
  assert.equal(invalid.status, 2);
  assert.match(invalid.stdout, /could not run: OpenClaw config is invalid \(gateway: x\)/);
  assert.equal(helper(["audit"], "").status, 2);
});

test("older-schema: a release declaring an older state or agent schema cannot read a newer one's state", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-rel-"));
  const release = (name: string, schemaVersions?: Record<string, number>) => {
    const pkg = path.join(dir, name, "node_modules", "openclaw");
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(
      path.join(pkg, "package.json"),
      JSON.stringify({ version: name, openclaw: { schemaVersions } }),
    );
    return path.join(dir, name);
  };
  try {
    // As 2026.9.5 and 2026.9.6 declare them.
    const old = release("2026.9.5", { state: 17, agent: 21 });
    const current = release("2026.9.6", { state: 18, agent: 23 });
    const older = (a: string, b: string) => helper(["older-schema", a, b]).status;
    assert.equal(older(old, current), 0, "a downgrade across a schema change");
    assert.equal(older(current, old), 1, "an upgrade");
    assert.equal(older(current, current), 1);
    assert.equal(older(release("agent-only", { state: 18, agent: 22 }), current), 0);
    assert.equal(older(release("undeclared"), current), 1, "nothing declared: nothing to compare");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A throwaway public key's lines, and the SHA-256 of gpg --dearmor's output for it. */
const ARMOURED_KEY = ARMOURED_PUBLIC_KEY.split("\n");
const DEARMORED_SHA256 = "17ce88f1fecb749208bf14374cf3e58ee7114bcda0f5cc73609efc8987a15296";

test("apt: an armoured key is dearmored as gpg does, headers and CRLF or not; versions match upstream", () => {
  const withHeaders = [ARMOURED_KEY[0], "Comment: NodeSource", "Version: GnuPG v2", ...ARMOURED_KEY.slice(1)];
  for (const text of [ARMOURED_KEY.join("\n"), withHeaders.join("\r\n")]) {
    const r = withLibrary('dearmor <<<"$KEY" | sha256sum | cut -d" " -f1', { KEY: text });
    assert.equal(r.stdout.trim(), DEARMORED_SHA256, r.stderr);
  }
  const versions = withLibrary(
    "for v in 24.22.3-1nodesource1 1:24.22.3-2 24.22.3 24.22.30-1nodesource1; do upstream_version $v; done",
  );
  assert.equal(versions.stdout, "24.22.3\n24.22.3\n24.22.3\n24.22.30\n");
});

test("parseOpenClawVersion reads the last line only", () => {
  assert.equal(parseOpenClawVersion("openclaw: healthy\nopenclaw-version: 2026.9.6\n"), "2026.9.6");
  assert.throws(() => parseOpenClawVersion("openclaw-version: 2026.9.6\nmore\n"), /no openclaw-version/);
  assert.throws(() => parseOpenClawVersion(""), /no openclaw-version/);
});

test("the unit: the openclaw user, writable state only, sandboxed; systemd-analyze accepts it", (t) => {
  const unit = renderOpenClawUnit(SPEC);
  const lines = unit.split("\n");
  for (const line of [
    "User=openclaw",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths=${OPENCLAW_HOST.stateDir}`,
    "PrivateTmp=yes",
    "ProtectHome=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "SystemCallFilter=@system-service",
    "CapabilityBoundingSet=",
    "UMask=0077",
    "Restart=on-failure",
    "RestartPreventExitStatus=78",
    `EnvironmentFile=${OPENCLAW_HOST.envFile}`,
    `ExecStart=${nodeBinary(SPEC)} ${OPENCLAW_HOST.current}/node_modules/openclaw/openclaw.mjs gateway run --port 18789 --bind lan`,
    "WantedBy=multi-user.target",
  ]) {
    assert.ok(lines.includes(line), `${line} missing from:\n${unit}`);
  }
  // V8's JIT needs writable and executable memory; the gateway's lock needs openat2, which
  // RestrictSUIDSGID turns into ENOSYS (seen on the booted host).
  assert.ok(!unit.includes("MemoryDenyWriteExecute"));
  assert.ok(!unit.includes("RestrictSUIDSGID"));
  assert.equal(lines.filter((l) => l.startsWith("ReadWritePaths=")).length, 1);
  assert.ok(!/TOKEN=|API_KEY=/.test(unit), "a secret variable in the unit");
  if (!hasSystemdAnalyze()) {
    cannotRun(t, "systemd-analyze is not installed");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-unit-"));
  try {
    const file = path.join(dir, OPENCLAW_HOST.unit);
    // The node it runs is not on this machine: the test's own stands in, every other line as rendered.
    const analyze = (text: string) => {
      fs.writeFileSync(file, text.replace(nodeBinary(SPEC), process.execPath));
      return analyzeUnit(file);
    };
    const check = analyze(unit);
    const ours = (check.stderr + check.stdout).split("\n").filter((l) => l.includes("openclaw-gateway"));
    assert.deepEqual(ours, []);
    assert.equal(check.status, 0, check.stderr);
    const broken = analyze(unit.replace("ProtectSystem=strict", "ProtectSystem=very"));
    assert.match(broken.stderr, /openclaw-gateway\.service:\d+: Failed to parse protect system value/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// --- The host's users, directories and tools, in scratch copies -----------------------------------

/** Skips (or, in CI, fails) a test that needs root; true when it can go on. */
function asRoot(t: TestContext, why: string): boolean {
  if (process.getuid?.() === 0) return true;
  cannotRun(t, `needs root (${why})`);
  return false;
}

/** Runs `body` with a new temporary directory, removed after it. */
function inTempDir(prefix: string, body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `body` with a temporary directory holding a copy of the machine's /etc, for inScratchRoot. */
function withScratchRoot(body: (dir: string) => void): void {
  inTempDir("openclaw-root-", (dir) => {
    execFileSync("cp", ["-a", "/etc", path.join(dir, "etc")]);
    body(dir);
  });
}

/**
 * Runs `body` with the library's functions, as root, in a mount namespace of its own whose /etc
 * is `dir`/etc: the users and groups that useradd, id and chown make or read there are the
 * copy's, and nothing of the machine's changes. `mounts` runs first, in that namespace.
 */
function inScratchRoot(dir: string, body: string, env: Record<string, string>, mounts = "") {
  return spawnSync(
    "unshare",
    [
      ...["--mount", "--propagation", "private", "bash", "-c"],
      'mount --bind "$0/etc" /etc && eval "$2" && exec bash -c "$1"',
      dir,
      `${LIBRARY}\nset -euo pipefail\n${body}`,
      mounts || "true",
    ],
    // stdin not a socket: Debian's bash reads ~/.bashrc when it looks started by sshd.
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
    },
  );
}

/** OpenClaw's directories under the scratch root `dir`, as the header names them. */
function hostDirs(dir: string) {
  return {
    OC_USER: OPENCLAW_HOST.user,
    STATE_DIR: path.join(dir, OPENCLAW_HOST.stateDir),
    RECOVERY: path.join(dir, `${OPENCLAW_HOST.stateDir}-recovery`),
    RELEASES: path.join(dir, OPENCLAW_HOST.releases),
    NODE_ROOT: path.join(dir, OPENCLAW_HOST.nodeRoot),
    CURRENT: path.join(dir, OPENCLAW_HOST.current),
    ENV_FILE: path.join(dir, OPENCLAW_HOST.envFile),
    UNIT_PATH: path.join(dir, "etc/systemd/system", OPENCLAW_HOST.unit),
  };
}

const userIn = (dir: string, user: string) =>
  fs
    .readFileSync(path.join(dir, "etc/passwd"), "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${user}:`));

test("the install script is told the hardening's state directory and how many releases to keep", () => {
  const lines = renderOpenClawInstallScript({ ...SPEC, keepReleases: 5 }, "/srv/oc-hardening").split("\n");
  assert.ok(lines.includes("HARDENING_STATE_DIR='/srv/oc-hardening'"), "HARDENING_STATE_DIR missing");
  assert.ok(lines.includes("KEEP_RELEASES='5'"), "KEEP_RELEASES missing");
});

test("ensure_user refuses, before anything is chowned, OpenClaw's directories holding the hardening's state or inside it", (t) => {
  if (!asRoot(t, "a mount namespace with a scratch /etc")) return;
  withScratchRoot((dir) => {
    const dirs = hostDirs(dir);
    fs.mkdirSync(dirs.STATE_DIR, { recursive: true, mode: 0o755 });
    const cases: [string, string][] = [
      [dirs.STATE_DIR, dirs.STATE_DIR],
      [path.join(dirs.STATE_DIR, "hardening"), dirs.STATE_DIR],
      [path.dirname(dirs.STATE_DIR), dirs.STATE_DIR],
      [path.join(dirs.RECOVERY, "hardening"), dirs.RECOVERY],
      [path.join(path.dirname(dirs.RELEASES), "releases/x"), path.dirname(dirs.RELEASES)],
    ];
    for (const [hardening, ours] of cases) {
      const r = inScratchRoot(dir, "ensure_user", { ...dirs, HARDENING_STATE_DIR: hardening });
      assert.notEqual(r.status, 0, `accepted hardening.stateDir ${hardening}`);
      assert.ok(r.stderr.includes(`hardening.stateDir ${hardening}`), r.stderr);
      assert.ok(r.stderr.includes(ours), r.stderr);
      assert.equal(fs.statSync(dirs.STATE_DIR).uid, 0, "the state directory was chowned");
      assert.ok(!userIn(dir, OPENCLAW_HOST.user), "the user was made");
    }
    // The default, beside OpenClaw's state: the user is made and given its state.
    const ok = inScratchRoot(dir, "ensure_user", { ...dirs, HARDENING_STATE_DIR: path.join(dir, HARDENING) });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(userIn(dir, OPENCLAW_HOST.user));
    assert.notEqual(fs.statSync(dirs.STATE_DIR).uid, 0);
  });
});

test("ensure_user refuses an existing openclaw user with groups besides its own, naming them", (t) => {
  if (!asRoot(t, "a mount namespace with a scratch /etc")) return;
  withScratchRoot((dir) => {
    const dirs = hostDirs(dir);
    fs.mkdirSync(dirs.STATE_DIR, { recursive: true, mode: 0o755 });
    const etc = (name: string) => path.join(dir, "etc", name);
    const groups = fs.readFileSync(etc("group"), "utf8").split("\n").filter(Boolean);
    const passwd = fs.readFileSync(etc("passwd"), "utf8");
    // A system account's uid (below 1000), and a gid, that the copy does not use yet.
    const uid = [...Array(100).keys()]
      .map((i) => 990 - i)
      .find((n) => !passwd.includes(`:${n}:`) && !groups.some((l) => l.split(":")[2] === String(n)))!;
    const dockerGid = 64902;
    fs.appendFileSync(
      etc("passwd"),
      `openclaw:x:${uid}:${uid}:OpenClaw gateway:${dirs.STATE_DIR}:/usr/sbin/nologin\n`,
    );
    const withMembers = (members: string) =>
      [
        ...groups.filter((l) => !/^(openclaw|docker|adm):/.test(l)),
        `openclaw:x:${uid}:`,
        `docker:x:${dockerGid}:${members}`,
        `adm:x:4:${members}`,
        "",
      ].join("\n");
    fs.writeFileSync(etc("group"), withMembers("openclaw"));
    const env = { ...dirs, HARDENING_STATE_DIR: path.join(dir, HARDENING) };
    const refused = inScratchRoot(dir, "ensure_user", env);
    assert.notEqual(refused.status, 0, "an openclaw user in the docker group was accepted");
    assert.match(refused.stderr, /the existing user openclaw is in the groups (adm docker|docker adm)/);
    assert.equal(fs.statSync(dirs.STATE_DIR).uid, 0, "the state directory was chowned");
    // In its own group only: accepted, and given its state directory.
    fs.writeFileSync(etc("group"), withMembers(""));
    const ok = inScratchRoot(dir, "ensure_user", env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(fs.statSync(dirs.STATE_DIR).uid, uid);
  });
});

test("python3 runs isolated: a module planted where the step runs is not imported by fetch or unpack", () => {
  inTempDir("openclaw-py-", (dir) => {
    // The SSH user's home, where the step starts, with modules root would import from there.
    const home = path.join(dir, "home");
    const marker = path.join(dir, "imported");
    fs.mkdirSync(home);
    for (const m of ["shutil", "lzma", "sys", "urllib"]) {
      fs.writeFileSync(path.join(home, `${m}.py`), `open(${JSON.stringify(marker)}, "a").write("${m}\\n")\n`);
    }
    // A host with neither curl, wget nor xz: the python3 paths.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const tool of ["python3", "tar"]) {
      fs.symlinkSync(
        execFileSync("sh", ["-c", `command -v ${tool}`], {
          encoding: "utf8",
          env: { PATH: "/usr/bin:/bin" },
        }).trim(),
        path.join(bin, tool),
      );
    }
    fs.mkdirSync(path.join(dir, "src/top"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src/top/hello.txt"), "hello\n");
    execFileSync("tar", ["-cJf", path.join(dir, "node.tar.xz"), "-C", path.join(dir, "src"), "top"]);
    fs.mkdirSync(path.join(dir, "out"));
    const r = spawnSync(
      "/bin/bash",
      [
        "-c",
        `${LIBRARY}\nset -euo pipefail\nfetch "file://$D/node.tar.xz" "$D/got.tar.xz"\nunpack "$D/got.tar.xz" "$D/out"`,
      ],
      { cwd: home, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: bin, D: dir } },
    );
    assert.ok(
      !fs.existsSync(marker),
      `imported from the working directory: ${fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : ""}`,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "out/hello.txt"), "utf8"), "hello\n");
  });
});

test("after a healthy step: the last keepReleases releases and recovery points stay, the current one always; leftovers go", () => {
  inTempDir("openclaw-prune-", (dir) => {
    const dirs = hostDirs(dir);
    const versions = ["2026.1.0", "2026.2.0", "2026.3.0", "2026.4.0", "2026.5.0"];
    const day = 86_400;
    const now = Date.now() / 1000;
    for (const root of [dirs.RELEASES, dirs.RECOVERY, dirs.NODE_ROOT])
      fs.mkdirSync(root, { recursive: true });
    // Each went into service (release) or left it (recovery point) a day after the one before.
    versions.forEach((v, i) => {
      for (const root of [dirs.RELEASES, dirs.RECOVERY]) {
        fs.mkdirSync(path.join(root, v, "node_modules"), { recursive: true });
        fs.utimesSync(path.join(root, v), now - (10 - i) * day, now - (10 - i) * day);
      }
    });
    // The oldest is the one in service again (a downgrade): it stays whatever its age.
    fs.symlinkSync(path.join(dirs.RELEASES, "2026.1.0"), dirs.CURRENT);
    // What steps cut short left behind.
    for (const p of [
      path.join(dirs.RELEASES, "2026.6.0.partial"),
      path.join(dirs.RECOVERY, "2026.5.0.partial"),
      path.join(dirs.NODE_ROOT, "24.22.3.partial"),
      `${dirs.STATE_DIR}.restoring`,
    ]) {
      fs.mkdirSync(path.join(p, "x"), { recursive: true });
    }
    fs.mkdirSync(path.dirname(dirs.ENV_FILE), { recursive: true });
    fs.writeFileSync(`${dirs.ENV_FILE}.new`, "x");
    fs.symlinkSync(path.join(dirs.RELEASES, "2026.5.0"), `${dirs.CURRENT}.new`);
    const r = withLibrary("set -euo pipefail; remove_leftovers; prune", { ...dirs, KEEP_RELEASES: "3" });
    assert.equal(r.status, 0, r.stderr);
    const ls = (d: string) => fs.readdirSync(d).sort();
    assert.deepEqual(ls(dirs.RELEASES), ["2026.1.0", "2026.4.0", "2026.5.0"]);
    assert.deepEqual(ls(dirs.RECOVERY), ["2026.3.0", "2026.4.0", "2026.5.0"]);
    assert.deepEqual(ls(dirs.NODE_ROOT), []);
    assert.deepEqual(ls(path.dirname(dirs.ENV_FILE)), []);
    assert.ok(!fs.existsSync(`${dirs.STATE_DIR}.restoring`));
    assert.ok(!fs.existsSync(`${dirs.CURRENT}.new`));
    assert.match(r.stdout, /removed the releases 2026\.2\.0 2026\.3\.0 \(keeping the last 3\)/);
    assert.match(r.stdout, /removed the recovery points 2026\.1\.0 2026\.2\.0 \(keeping the last 3\)/);
    // Nothing more to remove: nothing said.
    const again = withLibrary("set -euo pipefail; remove_leftovers; prune", { ...dirs, KEEP_RELEASES: "3" });
    assert.deepEqual([again.status, again.stdout], [0, ""]);
  });
});

test("check_room: the copy of the state must fit, with room to spare, or the step stops before the gateway does", (t) => {
  if (!asRoot(t, "a small tmpfs in a mount namespace")) return;
  withScratchRoot((dir) => {
    const state = path.join(dir, "state");
    const small = path.join(dir, "small");
    fs.mkdirSync(state);
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(state, "big"), Buffer.alloc(8 << 20, 1));
    const mounts = `mount -t tmpfs -o size=4m openclaw-unit-test "${small}"`;
    const full = inScratchRoot(dir, `check_room "${state}" "${small}/2026.9.5"`, {}, mounts);
    assert.notEqual(full.status, 0);
    assert.match(
      full.stderr,
      /not enough space for the recovery point: copying .*state to .*small\/2026\.9\.5 needs 2[45] MiB \(the state, 8 MiB, and 16 MiB to spare\), and .*small has 4 MiB free/,
    );
    fs.rmSync(path.join(state, "big"));
    const roomy = `mount -t tmpfs -o size=64m openclaw-unit-test "${small}"`;
    const fits = inScratchRoot(dir, `check_room "${state}" "${small}/recovery/2026.9.5"`, {}, roomy);
    assert.equal(fits.status, 0, fits.stderr);
  });
});

test("under bash 5.1 (Ubuntu 22.04, Debian 11): every script parses, and secrets with ) ' and $( come back as given", (t) => {
  const old = bash51();
  if (!old) {
    cannotRun(t, "bash 5.1 is not in its cache: run sudo bash test/support/openclaw/fetch-bash51.sh");
    return;
  }
  assert.match(spawnSync(old, ["--version"], { encoding: "utf8" }).stdout, /version 5\.1\./);
  const secrets = {
    gatewayToken: `a)b'c$(d) "e" \`f\` \\g $(cat <<'X' ${"z".repeat(32)}`,
    anthropicApiKey: "sk-ant-)'$(",
    openaiApiKey: "sk-')",
  };
  for (const spec of [SPEC, APT_SPEC]) {
    const install = renderOpenClawInstallScript(spec, HARDENING);
    for (const script of [
      composeOpenClawInstall(install, renderOpenClawSecrets(secrets)),
      renderOpenClawVerifyScript(spec),
      renderOpenClawRemoveScript(spec),
    ]) {
      const check: SpawnSyncReturns<string> = spawnSync(old, ["-n"], { input: script, encoding: "utf8" });
      assert.equal(check.status, 0, check.stderr);
    }
    // The install step as the host reads it (on stdin), ending in the environment file's lines
    // instead of its call; read back as systemd reads them, by the machine's bash.
    const run: SpawnSyncReturns<string> = spawnSync(old, ["-s"], {
      input: `${install}${renderOpenClawSecrets(secrets)}env_file_content\n`,
      encoding: "utf8",
      // SHLVL set: a bash whose stdin is a socket and SHLVL unset reads ~/.bashrc, as under sshd.
      env: { PATH: "/usr/bin:/bin", SHLVL: "1" },
    });
    assert.equal(run.status, 0, run.stderr);
    const back = spawnSync(
      "bash",
      [
        "-c",
        `${run.stdout}\nprintf '%s\\n' "$OPENCLAW_GATEWAY_TOKEN" "$ANTHROPIC_API_KEY" "$OPENAI_API_KEY"`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(
      back.stdout,
      `${secrets.gatewayToken}\n${secrets.anthropicApiKey}\n${secrets.openaiApiKey}\n`,
    );
  }
});

test("behind the HTTPS proxy: loopback its one trusted proxy, the domain its one origin, no fallback or dangerous flag; off again, both go", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-cfg-"));
  const file = path.join(dir, "openclaw.json");
  const read = () => JSON.parse(fs.readFileSync(file, "utf8"));
  try {
    assert.equal(helper(["config", file, "18789", "loopback"]).stdout, "changed\n");
    const before = read();
    // The "fixes" guides suggest, and the origin a tunnel user had: all replaced by the proxy's.
    before.gateway.allowRealIpFallback = true;
    before.gateway.controlUi.dangerouslyAllowHostHeaderOriginFallback = true;
    before.gateway.controlUi.allowInsecureAuth = true;
    before.gateway.controlUi.dangerouslyDisableDeviceAuth = true;
    fs.writeFileSync(file, JSON.stringify(before));
    const on = helper(["config", file, "18789", "loopback", "https://gateway.example.com"]);
    assert.equal(on.stdout, "changed\n", on.stderr);
    const https = read();
    assert.deepEqual(https.gateway.trustedProxies, ["127.0.0.1", "::1"]);
    assert.deepEqual(https.gateway.controlUi, { allowedOrigins: ["https://gateway.example.com"] });
    assert.equal(https.gateway.allowRealIpFallback, undefined);
    assert.equal(https.gateway.bind, "loopback");
    assert.equal(https.gateway.auth.mode, "token");
    assert.equal(
      helper(["config", file, "18789", "loopback", "https://gateway.example.com"]).stdout,
      "unchanged\n",
    );
    // https off: the proxy's trust and origin go, the tunnel's origins come back.
    assert.equal(helper(["config", file, "18789", "loopback"]).stdout, "changed\n");
    assert.equal(read().gateway.trustedProxies, undefined);
    assert.deepEqual(read().gateway.controlUi, {
      allowedOrigins: ["http://localhost:18789", "http://127.0.0.1:18789"],
    });
    // Proxies the operator set themselves are theirs: kept, with their origins.
    const own = read();
    own.gateway.trustedProxies = ["10.0.0.1"];
    own.gateway.controlUi.allowedOrigins = ["https://ui.example.com"];
    fs.writeFileSync(file, JSON.stringify(own));
    assert.equal(helper(["config", file, "18789", "loopback"]).stdout, "unchanged\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("with https on, the audit fails on any finding about the proxy, origins or auth, warnings included", () => {
  const checks = HTTPS_AUDIT_CHECKS.join(" ");
  const report = (checkId: string, severity = "warn") => ({
    summary: { critical: 0, warn: 1, info: 0 },
    findings: [{ checkId, severity, title: `the ${checkId} finding`, remediation: "do the thing" }],
  });
  const audit = (r: unknown, c = checks) => helper(["audit", c], JSON.stringify(r));
  for (const id of [
    "gateway.trusted_proxies_missing",
    "gateway.real_ip_fallback_enabled",
    "gateway.control_ui.allowed_origins_wildcard",
    "config.insecure_or_dangerous_flags",
    // A family: every trusted_proxy_ check.
    "gateway.trusted_proxy_allow_loopback",
  ]) {
    const r = audit(report(id));
    assert.equal(r.status, 1, id);
    assert.match(
      r.stdout,
      new RegExp(
        `FAILED: audit finding ${id.replace(/\./g, "\\.")} \\(warn\\) about the proxy, origins or auth, with https on: the .* finding\\. Remediation: do the thing`,
      ),
    );
    // Without https, a warning is printed and passes, as before.
    assert.equal(audit(report(id), "").status, 0);
  }
  assert.equal(
    audit(report("gateway.trusted_proxies_present")).status,
    0,
    "a prefix only where it ends in _",
  );
  assert.equal(audit(report("fs.state_dir.perms_readable")).status, 0);
  // The install step passes the origin and the checks only with https.
  const https = {
    ...APT_SPEC,
    https: {
      domain: "gateway.example.com",
      email: "ops@example.com",
      acmeDirectory: "https://acme.example/dir",
      caddy: { kind: "distribution" as const },
      sources: ["0.0.0.0/0"],
    },
  };
  const on = renderOpenClawInstallScript(https, HARDENING).split("\n");
  assert.ok(on.includes("HTTPS_ORIGIN='https://gateway.example.com'"));
  assert.ok(renderOpenClawVerifyScript(https).includes(`HTTPS_AUDIT_CHECKS='${checks}'`));
  // The library hands both on: the origin to the config it writes, the checks to the audit.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-cfg-"));
  try {
    const written = withLibrary('helper_as_user() { "$NODE" -e "$HELPER_JS" "$@"; }\nwrite_config', {
      NODE: process.execPath,
      HELPER_JS: HELPER,
      CONFIG_FILE: path.join(dir, "openclaw.json"),
      PORT: "18789",
      BIND: "loopback",
      HTTPS_ORIGIN: "https://gateway.example.com",
    });
    assert.equal(written.stdout, "changed\n", written.stderr);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "openclaw.json"), "utf8"));
    assert.deepEqual(cfg.gateway.controlUi.allowedOrigins, ["https://gateway.example.com"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.match(LIBRARY, /^ {4}if ! helper audit "\$HTTPS_AUDIT_CHECKS" <<<"\$report"; then$/m);
  const off = renderOpenClawInstallScript(APT_SPEC, HARDENING).split("\n");
  assert.ok(off.includes("HTTPS_ORIGIN=''") && off.includes("HTTPS_AUDIT_CHECKS=''"));
});
