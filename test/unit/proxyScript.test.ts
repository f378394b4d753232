// The HTTPS proxy's host script and its renderers: the Caddyfile, the script's inputs, its
// structure (one call, cut short it runs nothing), and caddy.sh's decisions run in bash with the
// system's tools stubbed by functions (systemctl, apt-get, dpkg-query, runuser, journalctl, ss):
// what apply puts back on each failure, when it restarts Caddy, what verify counts as enough time
// left on a certificate, and what remove leaves. The chain and name checks run against a real
// openssl s_server on loopback. On a booted host with Pebble: test/host/booted-https.test.ts.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CADDYFILE_MARKER, CADDY_HOST, renderCaddyfile } from "../../components/proxy/caddyfile";
import {
  CERT_TIMEOUT_SECONDS,
  MIN_DAYS_LEFT,
  PROXY_MODES,
  proxyGlobals,
  proxyShell,
  renderProxyScript,
} from "../../components/proxy/script";
import { DEFAULT_ACME_DIRECTORY, type HttpsSpec } from "../../components/openclaw/types";
import { assign } from "../../components/hardening/script";

const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/proxy/caddy.sh"), "utf8");
const DOMAIN = "gateway.example.com";
const ROOT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const HTTPS: HttpsSpec = {
  domain: DOMAIN,
  email: "ops+acme@example.com",
  acmeDirectory: "https://acme.example.test:14000/dir",
  acmeRoot: ROOT_PEM,
  caddy: { kind: "distribution" },
  sources: ["0.0.0.0/0"],
};
const APT: HttpsSpec = {
  ...HTTPS,
  acmeRoot: undefined,
  acmeDirectory: DEFAULT_ACME_DIRECTORY,
  caddy: {
    kind: "apt",
    source:
      "deb [signed-by=/etc/apt/keyrings/caddy.asc] https://dl.example.test/caddy/deb debian any-version",
    key: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxyz\n-----END PGP PUBLIC KEY BLOCK-----",
  },
};

test("the Caddyfile: the CA, its root, admin off, no HTTP/3, one site proxied to the gateway on loopback", () => {
  assert.equal(
    renderCaddyfile(HTTPS, 18789),
    [
      CADDYFILE_MARKER,
      "{",
      "\temail ops+acme@example.com",
      "\tacme_ca https://acme.example.test:14000/dir",
      "\tacme_ca_root /etc/caddy/openclaw-acme-root.pem",
      "\tadmin off",
      "\tservers {",
      "\t\tprotocols h1 h2",
      "\t}",
      "}",
      "",
      "gateway.example.com {",
      "\treverse_proxy 127.0.0.1:18789",
      '\theader Strict-Transport-Security "max-age=31536000"',
      "}",
      "",
    ].join("\n"),
  );
  // Without a root of its own, the CA is trusted through the host's store: no acme_ca_root.
  const public_ = renderCaddyfile(APT, 18800);
  assert.doesNotMatch(public_, /acme_ca_root/);
  assert.match(public_, /^\tacme_ca https:\/\/acme-v02\.api\.letsencrypt\.org\/directory$/m);
  assert.match(public_, /^\treverse_proxy 127\.0\.0\.1:18800$/m);
  assert.doesNotMatch(public_, /renew_interval/);
  assert.match(
    renderCaddyfile(HTTPS, 18789, { renewInterval: "10s" }),
    /^\trenew_interval 10s\n\tadmin off$/m,
  );
});

test("the Caddyfile renderer refuses what Caddy would read as more than one token, and a port that is none", () => {
  for (const [key, bad] of [
    ["domain", "gateway.example.com {\n\trespond hi\n}\nx"],
    ["domain", "a b"],
    ["email", 'ops"@example.com'],
    ["email", "ops@example.com # x"],
    ["acmeDirectory", "https://acme.example/{env.HOME}"],
  ] as const) {
    assert.throws(() => renderCaddyfile({ ...HTTPS, [key]: bad }, 18789), new RegExp(`https\\.${key} `));
  }
  assert.throws(() => renderCaddyfile(HTTPS, 18789, { renewInterval: "1s }" }), /renewInterval/);
  for (const port of [0, 70000, 1.5]) assert.throws(() => renderCaddyfile(HTTPS, port), /not a TCP port/);
});

test("the script's inputs: every value from the spec and the port, the Caddyfile among them; no apt source without one", () => {
  const globals = new Map(proxyGlobals(HTTPS, 18789));
  assert.equal(globals.get("DOMAIN"), DOMAIN);
  assert.equal(globals.get("ACME_DIRECTORY"), HTTPS.acmeDirectory);
  assert.equal(globals.get("ACME_ROOT"), ROOT_PEM.trimEnd());
  assert.equal(globals.get("ACME_ROOT_FILE"), CADDY_HOST.acmeRootFile);
  assert.equal(globals.get("GATEWAY_PORT"), 18789);
  assert.equal(globals.get("CADDYFILE_TEXT"), renderCaddyfile(HTTPS, 18789).trimEnd());
  assert.deepEqual(
    [globals.get("CADDY_KIND"), globals.get("CADDY_APT_SOURCE"), globals.get("CADDY_APT_KEY")],
    ["distribution", "", ""],
  );
  assert.equal(globals.get("MIN_DAYS_LEFT"), MIN_DAYS_LEFT);
  assert.equal(globals.get("CERT_TIMEOUT"), CERT_TIMEOUT_SECONDS);
  // A test's options: Caddy's renew_interval, and a shorter wait for the certificate.
  const quick = new Map(proxyGlobals(HTTPS, 18789, { renewInterval: "10s", certTimeoutSeconds: 30 }));
  assert.equal(quick.get("CERT_TIMEOUT"), 30);
  assert.equal(
    quick.get("CADDYFILE_TEXT"),
    renderCaddyfile(HTTPS, 18789, { renewInterval: "10s" }).trimEnd(),
  );
  const apt = new Map(proxyGlobals(APT, 18789));
  assert.equal(apt.get("ACME_ROOT"), "");
  assert.deepEqual(
    [apt.get("CADDY_KIND"), apt.get("CADDY_APT_SOURCE"), apt.get("CADDY_APT_KEY")],
    ["apt", APT.caddy.kind === "apt" && APT.caddy.source, APT.caddy.kind === "apt" && APT.caddy.key],
  );
  // Deterministic, and each value comes back exactly through bash's own parsing.
  assert.equal(renderProxyScript(HTTPS, 18789), renderProxyScript({ ...HTTPS }, 18789));
  const header = proxyGlobals(HTTPS, 18789)
    .map(([n, v]) => assign(n, v))
    .join("\n");
  const echoed = spawnSync(
    "bash",
    ["-c", `${header}\nprintf '%s\\0' "$CADDYFILE_TEXT" "$ACME_ROOT" "$DOMAIN"`],
    {
      encoding: "utf8",
    },
  );
  assert.deepEqual(echoed.stdout.split("\0").slice(0, 3), [
    renderCaddyfile(HTTPS, 18789).trimEnd(),
    ROOT_PEM.trimEnd(),
    DOMAIN,
  ]);
});

test("one script, one call at its end; the mode is bash's argument in a constant command; cut short it runs nothing", () => {
  for (const spec of [HTTPS, APT]) {
    const script = renderProxyScript(spec, 18789);
    assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0);
    assert.equal(script.trimEnd().split("\n").at(-1), 'proxy_main "$@"');
    // Every line but the call only defines: cut anywhere before it, nothing runs or prints.
    const body = script.trimEnd().split("\n").slice(0, -1).join("\n");
    const run = spawnSync("bash", ["-s", "apply"], {
      input: body,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    assert.deepEqual([run.status, run.stdout, run.stderr], [0, "", ""]);
    // An unknown mode fails before anything is touched (setup, the lock and root come after).
    const bad = spawnSync("bash", ["-s", "install"], {
      input: script,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /proxy: FAILED: unknown mode 'install': apply, verify or remove/);
  }
  for (const mode of PROXY_MODES) {
    assert.equal(
      proxyShell(mode),
      `if [ "$(id -u)" -eq 0 ]; then exec /bin/bash -s ${mode}; else exec sudo -n /bin/bash -s ${mode}; fi`,
    );
  }
});

test("the library assigns no globals, and the header assigns every global it reads", () => {
  assert.deepEqual(LIBRARY.match(/^[A-Za-z_][A-Za-z0-9_]*=/gm), null);
  const read = new Set([...LIBRARY.matchAll(/\$\{?([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
  const assigned = new Set(proxyGlobals(HTTPS, 18789).map(([n]) => n));
  assert.deepEqual(
    [...read].filter((v) => !assigned.has(v) && !["PATH", "SECONDS"].includes(v)),
    [],
  );
});

// --- caddy.sh in bash, the system stubbed ------------------------------------------------------

/**
 * A host in a directory: caddy.sh's files under `dir`, and stubs, as bash functions that take
 * precedence over any command, recording each call in `calls` and keeping the unit's state as
 * files in `state/` (installed, active, enabled, invalid, restart-fails, cert.pem, journal).
 */
function fakeHost(t: TestContext, spec: HttpsSpec = HTTPS) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "proxy-host-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "state"));
  const paths: Record<string, string> = {
    CADDYFILE: `${dir}/Caddyfile`,
    CADDYFILE_ORIGINAL: `${dir}/Caddyfile.before-openclaw`,
    ACME_ROOT_FILE: `${dir}/openclaw-acme-root.pem`,
    CADDY_APT_LIST: `${dir}/openclaw-caddy.list`,
    KEPT: `${dir}/kept/before-step`,
    STEP_LOG: `${dir}/step.log`,
    CERT_TIMEOUT: "0",
  };
  const keyring = `${dir}/caddy.asc`;
  const withKeyring = (s: HttpsSpec): HttpsSpec =>
    s.caddy.kind === "apt"
      ? {
          ...s,
          caddy: { ...s.caddy, source: s.caddy.source.replace("/etc/apt/keyrings/caddy.asc", keyring) },
        }
      : s;
  const globals = (s: HttpsSpec) =>
    proxyGlobals(withKeyring(s), 18789)
      .map(([n, v]) => assign(n, n in paths ? paths[n]! : v))
      .join("\n");
  const stubs = String.raw`
STATE=${dir}/state
calls() { printf '%s\n' "$*" >>"$STATE/calls"; }
id() { echo 0; }
lock() { :; }
sleep() { :; }
systemctl() {
    calls "systemctl $*"
    case $1 in
        is-active) [ -e "$STATE/active" ] ;;
        is-enabled) [ -e "$STATE/enabled" ] ;;
        restart) [ ! -e "$STATE/restart-fails" ] && touch "$STATE/active" ;;
        stop) rm -f "$STATE/active" ;;
        enable) touch "$STATE/enabled" ;;
        disable) rm -f "$STATE/enabled"; [ "$2" != --now ] || rm -f "$STATE/active" ;;
        show) echo inactive ;;
        cat) [ -e "$STATE/installed" ] ;;
    esac
}
dpkg-query() { [ ! -e "$STATE/installed" ] || printf 'install ok installed'; }
apt-get() {
    calls "apt-get $*"
    [ ! -e "$STATE/apt-fails" ] || { echo "E: apt says no"; return 100; }
    case "$*" in *" install caddy") touch "$STATE/installed" ;; esac
}
runuser() { calls "runuser $*"; [ ! -e "$STATE/invalid" ] || { echo "Error: adapting config: bad"; return 1; }; }
journalctl() { cat "$STATE/journal" 2>/dev/null || true; }
openssl() {
    if [ "$1" = s_client ]; then
        [ -e "$STATE/cert.pem" ] || { echo "40F7:error:8000006F:system library:BIO_connect:Connection refused"; return 1; }
        cat "$STATE/cert.pem"
    else
        command openssl "$@"
    fi
}
`;
  const run = (call: string, s: HttpsSpec = spec) =>
    spawnSync("bash", ["-c", `${globals(s)}\n${LIBRARY}\n${stubs}\n${call}`], {
      encoding: "utf8",
      // stdin a socket, bash would take itself for a remote shell and read root's .bashrc.
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
  const state = (name: string) => path.join(dir, "state", name);
  const calls = () => (fs.existsSync(state("calls")) ? fs.readFileSync(state("calls"), "utf8") : "");
  const read = (name: string) => {
    const file = paths[name] ?? name;
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  };
  return { dir, paths, keyring, state, calls, read, run, set: (n: string) => fs.writeFileSync(state(n), "") };
}

/** A self-signed certificate for the domain, valid `days` from now, in PEM. */
function certificate(dir: string, days: number, name = DOMAIN): string {
  const out = path.join(dir, `cert-${days}-${name}.pem`);
  const r = spawnSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", path.join(dir, "key.pem"), "-out", out, "-subj", `/CN=${name}`, "-days", String(days)],
    ...["-addext", `subjectAltName=DNS:${name}`],
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  return fs.readFileSync(out, "utf8");
}

const OLD_CADDYFILE = `${CADDYFILE_MARKER}\nold.example.com {\n\treverse_proxy 127.0.0.1:18789\n}\n`;

test("apply: a Caddyfile Caddy refuses never replaces the one in force, and nothing is restarted", (t) => {
  const host = fakeHost(t);
  fs.writeFileSync(host.paths["CADDYFILE"]!, OLD_CADDYFILE);
  fs.writeFileSync(host.paths["ACME_ROOT_FILE"]!, "old root\n");
  for (const s of ["installed", "active", "enabled", "invalid"]) host.set(s);
  const r = host.run("apply_main");
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /Error: adapting config: bad/);
  assert.match(
    r.stderr,
    /FAILED: caddy validate refused the new Caddyfile \(above\); the one in force was not replaced; Caddy and its files are back/,
  );
  assert.equal(host.read("CADDYFILE"), OLD_CADDYFILE);
  assert.equal(host.read("ACME_ROOT_FILE"), "old root\n", "the new root was written for validate: put back");
  assert.equal(host.read(`${host.paths["CADDYFILE"]}.new`), undefined);
  assert.match(
    host.calls(),
    /^runuser -u caddy -- env HOME=\/var\/lib\/caddy caddy validate --adapter caddyfile --config .*Caddyfile\.new$/m,
  );
  assert.doesNotMatch(host.calls(), /systemctl (restart|stop|disable)/, host.calls());
  assert.equal(fs.existsSync(host.paths["KEPT"]!), false);
});

test("apply: no certificate in time puts back the previous Caddyfile and root and restarts Caddy with them, naming why", (t) => {
  const host = fakeHost(t);
  fs.writeFileSync(host.paths["CADDYFILE"]!, OLD_CADDYFILE);
  for (const s of ["installed", "active", "enabled"]) host.set(s);
  fs.writeFileSync(
    host.state("journal"),
    [
      '{"level":"info","msg":"obtaining certificate","identifier":"gateway.example.com"}',
      '{"level":"info","msg":"served key authentication"}',
      '{"level":"error","msg":"challenge failed","identifier":"gateway.example.com","problem":{"type":"urn:ietf:params:acme:error:connection"}}',
    ].join("\n"),
  );
  const r = host.run("apply_main");
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /Caddy serves no valid certificate for gateway\.example\.com from https:\/\/acme\.example\.test:14000\/dir: .*BIO_connect:Connection refused/,
  );
  assert.match(r.stderr, /challenge failed.*urn:ietf:params:acme:error:connection/);
  assert.doesNotMatch(r.stderr, /served key authentication/, "only the lines about ACME");
  assert.match(
    r.stderr,
    /FAILED: no certificate for gateway\.example\.com within 0s: check that the DNS record of gateway\.example\.com points at this host, that port 80 is reachable from the CA for its HTTP-01 challenge, and the CA's rate limits/,
  );
  assert.equal(host.read("CADDYFILE"), OLD_CADDYFILE);
  assert.equal(host.read("ACME_ROOT_FILE"), undefined, "there was none before");
  // Restarted with the new file, then again with the old one; still running, still enabled.
  assert.equal(host.calls().match(/^systemctl restart caddy\.service$/gm)?.length, 2);
  assert.ok(fs.existsSync(host.state("active")) && fs.existsSync(host.state("enabled")));
});

test("apply on a host without Caddy: installed masked; failing, Caddy stopped and disabled, its apt source and keyring gone", (t) => {
  const host = fakeHost(t, APT);
  const r = host.run("apply_main");
  assert.equal(r.status, 1);
  const calls = host.calls();
  // Masked while the package installs (it would start on the package's own Caddyfile), then unmasked.
  const order = [
    "systemctl mask --runtime --quiet caddy.service",
    "apt-get -q -y -o DPkg::Lock::Timeout=300 install caddy",
    "systemctl unmask --runtime --quiet caddy.service",
    "systemctl restart caddy.service",
    "systemctl stop caddy.service",
    "systemctl disable --quiet caddy.service",
  ].map((c) => calls.indexOf(`${c}\n`));
  assert.ok(
    order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)),
    `${order}\n${calls}`,
  );
  assert.ok(!fs.existsSync(host.state("active")) && !fs.existsSync(host.state("enabled")));
  for (const f of [host.paths["CADDY_APT_LIST"]!, host.keyring, host.paths["CADDYFILE"]!]) {
    assert.equal(fs.existsSync(f), false, `${f} left behind`);
  }
  // apt itself failing: the source goes again, and the unit is unmasked.
  const again = fakeHost(t, APT);
  again.set("apt-fails");
  const failed = again.run("apply_main");
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /E: apt says no/);
  assert.match(
    failed.stderr,
    /could not install caddy from deb \[signed-by=.*caddy\.asc\] .*: apt-get update failed/,
  );
  assert.equal(fs.existsSync(again.paths["CADDY_APT_LIST"]!), false);
  assert.equal(fs.existsSync(again.keyring), false);
});

test("apply: writes the files, keeps the package's Caddyfile once, restarts only on a change, and waits for the certificate", (t) => {
  const host = fakeHost(t);
  fs.writeFileSync(host.paths["CADDYFILE"]!, ":80 {\n\troot * /usr/share/caddy\n}\n");
  for (const s of ["installed", "active", "enabled"]) host.set(s);
  fs.writeFileSync(host.state("cert.pem"), certificate(host.dir, 90));
  const first = host.run("apply_main");
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout.trimEnd().split("\n").at(-1), `proxy-domain: ${DOMAIN}`);
  assert.equal(host.read("CADDYFILE"), renderCaddyfile(HTTPS, 18789));
  assert.equal(host.read("CADDYFILE_ORIGINAL"), ":80 {\n\troot * /usr/share/caddy\n}\n");
  assert.equal(host.read("ACME_ROOT_FILE"), ROOT_PEM);
  assert.equal((fs.statSync(host.paths["CADDYFILE"]!).mode & 0o777).toString(8), "644");
  assert.equal(host.calls().match(/^systemctl restart/gm)?.length, 1);
  assert.equal(fs.existsSync(host.paths["KEPT"]!), false);
  // The same again: nothing restarted, the package's Caddyfile not overwritten by ours.
  const second = host.run("apply_main");
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /no changes: Caddy is running with this Caddyfile/);
  assert.equal(host.calls().match(/^systemctl restart/gm)?.length, 1);
  assert.equal(host.read("CADDYFILE_ORIGINAL"), ":80 {\n\troot * /usr/share/caddy\n}\n");
  // Caddy not starting with the new file: the old one back, Caddy's lines printed.
  fs.writeFileSync(
    host.state("journal"),
    "Error: loading new config: listen tcp :443: address already in use\n",
  );
  host.set("restart-fails");
  const broken = host.run("apply_main", { ...HTTPS, domain: "other.example.com" });
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /address already in use/);
  assert.match(broken.stderr, /FAILED: caddy\.service did not start with the new Caddyfile/);
  assert.equal(host.read("CADDYFILE"), renderCaddyfile(HTTPS, 18789));
});

test(`certificate time left: over ${MIN_DAYS_LEFT} days, or over a third of a short lifetime, or due while Caddy renews it`, (t) => {
  const host = fakeHost(t);
  const at = (pem: string, hoursAhead: number, journal = "") => {
    fs.writeFileSync(host.state("cert.pem"), pem);
    fs.writeFileSync(host.state("journal"), journal);
    // The clock moved on by hoursAhead: only `date +%s` is asked for the time.
    const clock = `date() { if [ "$1" = +%s ]; then echo $(( $(command date +%s) + ${hoursAhead * 3600} )); else command date "$@"; fi; }`;
    return host.run(`${clock}\ncertificate_problem`).stdout;
  };
  const long = certificate(host.dir, 90);
  assert.equal(at(long, 0), "");
  assert.equal(at(long, 24 * 75), "", "15 days left");
  assert.match(at(long, 24 * 77), /has 31[12] hours left of 2160 and Caddy is not renewing it/);
  const short = certificate(host.dir, 1);
  assert.equal(at(short, 0), "", "a day's certificate, new");
  assert.equal(at(short, 15), "", "9 hours of 24 left: not due");
  assert.match(at(short, 17), /has [67] hours left of 24 and Caddy is not renewing it/);
  const renewing = `{"level":"info","logger":"tls.renew","msg":"renewing certificate","identifier":"${DOMAIN}","remaining":21600}\n`;
  assert.equal(at(short, 17, renewing), "", "due, and Caddy is renewing it");
  assert.match(at(short, 17, renewing.replace(DOMAIN, "other.example.com")), /not renewing it/);
  assert.match(at(short, 25, renewing), /has -1 hours left/, "expired: renewal pending does not cover it");
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("the served chain must end in acmeRoot and name the domain (a real TLS handshake with openssl s_server)", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "proxy-tls-"));
  const servers: ChildProcess[] = [];
  t.after(() => {
    for (const s of servers) s.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ossl = (...args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  for (const ca of ["ca", "other"]) {
    ossl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.pem`,
      "-subj",
      `/CN=${ca} root`,
      "-days",
      "2",
    );
  }
  /** A leaf for `name` from `ca`, served on a fresh port; resolves with that port. */
  const serve = async (ca: string, name: string) => {
    ossl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    fs.writeFileSync(path.join(dir, "ext"), `subjectAltName=DNS:${name}\n`);
    ossl(
      ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial"],
      ...["-out", `${name}-${ca}.pem`, "-days", "1", "-extfile", "ext"],
    );
    const port = await freePort();
    const server = spawn(
      "openssl",
      [
        "s_server",
        "-accept",
        `127.0.0.1:${port}`,
        "-cert",
        `${name}-${ca}.pem`,
        "-key",
        `${name}.key`,
        "-quiet",
      ],
      { cwd: dir, stdio: "ignore" },
    );
    servers.push(server);
    for (
      let i = 0;
      i < 50 && spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status !== 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return port;
  };
  const check = (port: number, root: string) => {
    const spec = { ...HTTPS, acmeRoot: fs.readFileSync(path.join(dir, root), "utf8") };
    const globals = proxyGlobals(spec, 18789)
      .map(([n, v]) =>
        assign(
          n,
          n === "LOCAL_TLS" ? `127.0.0.1:${port}` : n === "ACME_ROOT_FILE" ? path.join(dir, root) : v,
        ),
      )
      .join("\n");
    return spawnSync("bash", ["-c", `${globals}\n${LIBRARY}\nset -euo pipefail\ncertificate_problem`], {
      encoding: "utf8",
    }).stdout;
  };
  const good = await serve("ca", DOMAIN);
  assert.equal(check(good, "ca.pem"), "");
  assert.match(
    check(good, "other.pem"),
    /serves no valid certificate for gateway\.example\.com .*: .*verify error.*unable to get local issuer certificate/,
  );
  const wrongName = await serve("ca", "elsewhere.example.com");
  assert.match(
    check(wrongName, "ca.pem"),
    /serves no valid certificate .*: .*verify error.*hostname mismatch/,
  );
});

test("verify's requests: a redirect's status and Location over plain HTTP, a status over TLS for the domain", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "proxy-http-"));
  const plain = http.createServer((req, res) => {
    res.writeHead(req.headers.host === DOMAIN ? 308 : 404, { Location: `https://${DOMAIN}${req.url}` });
    res.end();
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ossl = (...args: string[]) => assert.equal(spawnSync("openssl", args, { cwd: dir }).status, 0);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  ossl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "key.pem",
    "-out",
    "cert.pem",
    "-subj",
    `/CN=${DOMAIN}`,
    "-days",
    "1",
  );
  // Node's server, as Caddy, answers only once the request's headers have ended.
  const secure = https.createServer(
    { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) },
    (req, res) => {
      res.writeHead(req.headers.host === DOMAIN && req.url === "/healthz" ? 200 : 404);
      res.end("ok");
    },
  );
  await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", resolve));
  t.after(() => secure.close());
  const port = (secure.address() as net.AddressInfo).port;
  const globals = proxyGlobals(
    { ...HTTPS, acmeRoot: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") },
    18789,
  )
    .map(([n, v]) =>
      assign(
        n,
        n === "LOCAL_HTTP"
          ? `127.0.0.1:${(plain.address() as net.AddressInfo).port}`
          : n === "LOCAL_TLS"
            ? `127.0.0.1:${port}`
            : n === "ACME_ROOT_FILE"
              ? path.join(dir, "cert.pem")
              : v,
      ),
    )
    .join("\n");
  const run = (call: string) =>
    new Promise<string>((resolve) => {
      const child = spawn("bash", ["-c", `${globals}\n${LIBRARY}\nset -euo pipefail\n${call}`], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", () => resolve(out));
    });
  assert.equal(
    await run("http_head 80 /"),
    `HTTP/1.1 308 Permanent Redirect\nLocation: https://${DOMAIN}/\n`,
  );
  assert.equal(await run("http_head 443 /healthz"), "HTTP/1.1 200 OK\n");
  assert.equal(await run("http_head 443 /missing"), "HTTP/1.1 404 Not Found\n");
  // The same server not trusted (the host's store knows no such root): no answer counts.
  assert.equal(await run("ACME_ROOT=''\nhttp_head 443 /healthz"), "");
});

test("listeners: 80 and 443 Caddy's alone, Caddy nowhere else beyond loopback, the gateway's port on loopback only", (t) => {
  const host = fakeHost(t);
  const listeners = (lines: string[]) =>
    host.run(
      `ss() { if [ "$*" = "-H -lntup" ]; then printf '%s\\n' ${lines.map((l) => `'${l}'`).join(" ")}; else echo x; fi; }\nlistener_problems`,
    ).stdout;
  const row = (proto: string, addr: string, proc: string) =>
    `${proto} LISTEN 0 4096 ${addr} *:* users:(("${proc}",pid=1,fd=3))`;
  const fine = [
    row("tcp", "*:443", "caddy"),
    row("tcp", "*:80", "caddy"),
    row("tcp", "127.0.0.1:18789", "node"),
    row("tcp", "[::1]:18789", "node"),
    row("tcp", "0.0.0.0:22", "sshd"),
    row("udp", "127.0.0.53%lo:53", "systemd-resolve"),
  ];
  assert.equal(listeners(fine), "");
  assert.equal(
    listeners([
      ...fine,
      row("udp", "*:443", "caddy"),
      row("tcp", "0.0.0.0:18789", "node"),
      row("tcp", "[::]:8080", "nginx"),
    ]),
    [
      "Caddy listens on *:443 (udp) beyond loopback: only 80 and 443 over TCP are its",
      "0.0.0.0:18789 (tcp) listens on the gateway's port beyond loopback: only Caddy may face the network",
      "",
    ].join("\n"),
  );
  assert.equal(
    listeners([
      row("tcp", "*:443", "caddy"),
      row("tcp", "0.0.0.0:80", "nginx"),
      row("tcp", "127.0.0.1:2019", "caddy"),
    ]),
    '0.0.0.0:80 (tcp) is held by users:(("nginx",pid=1,fd=3)), not Caddy\n',
  );
});

test("remove: Caddy stopped and disabled, the package's Caddyfile back, the root, the apt source and keyring gone", (t) => {
  const host = fakeHost(t, APT);
  for (const s of ["installed", "active", "enabled"]) host.set(s);
  fs.writeFileSync(host.paths["CADDYFILE"]!, renderCaddyfile(APT, 18789));
  fs.writeFileSync(host.paths["CADDYFILE_ORIGINAL"]!, "# the package's\n");
  for (const f of [host.paths["ACME_ROOT_FILE"]!, host.paths["CADDY_APT_LIST"]!, host.keyring])
    fs.writeFileSync(f, "x");
  const r = host.run("remove_main");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kept the caddy package and its certificates in \/var\/lib\/caddy/);
  assert.match(host.calls(), /^systemctl disable --now --quiet caddy\.service$/m);
  assert.ok(!fs.existsSync(host.state("active")) && !fs.existsSync(host.state("enabled")));
  assert.equal(host.read("CADDYFILE"), "# the package's\n");
  for (const f of [
    host.paths["CADDYFILE_ORIGINAL"]!,
    host.paths["ACME_ROOT_FILE"]!,
    host.paths["CADDY_APT_LIST"]!,
    host.keyring,
  ]) {
    assert.equal(fs.existsSync(f), false, `${f} left behind`);
  }
  // Without the package's copy: ours goes, someone else's Caddyfile stays.
  fs.writeFileSync(host.paths["CADDYFILE"]!, renderCaddyfile(APT, 18789));
  assert.equal(host.run("remove_main").status, 0);
  assert.equal(fs.existsSync(host.paths["CADDYFILE"]!), false);
  fs.writeFileSync(host.paths["CADDYFILE"]!, "# the operator's\n");
  assert.equal(host.run("remove_main").status, 0);
  assert.equal(host.read("CADDYFILE"), "# the operator's\n");
});
