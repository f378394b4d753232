// OpenClaw on a booted Debian host with Node from an apt source (spec.node.kind "apt"): the
// mirrors' signed repository, laid out like NodeSource's (openclawMirror.ts), served on the LAN.
// The rendered install script runs over real SSH as the image's sudo user, exactly as the
// component sends it (a constant command, the script on stdin). One host for the file, its
// subtests in order: each starts from the state the one before left.
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";
import {
  APT_KEYRING,
  MIRROR_NODE_VERSION,
  openclawMirror,
  serveMirror,
  type ServedMirror,
} from "../support/openclaw/openclawMirror";
import type { RunResult } from "../support/host/sandbox";
import { REMOTE_SHELL } from "../../components/hardening/script";
import {
  composeOpenClawInstall,
  parseOpenClawVersion,
  renderOpenClawInstallScript,
  renderOpenClawRemoveScript,
  renderOpenClawSecrets,
} from "../../components/openclaw/script";
import { HOST_DEFAULTS } from "../../components/hardening/options";
import { OPENCLAW_HOST, type OpenClawSpec } from "../../components/openclaw/types";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();
const PORT = 18789;
const MIRROR_PORT = 8874;
const VERSION = "2026.9.6";
const UNIT = OPENCLAW_HOST.unit;
const SOURCES_LIST = "/etc/apt/sources.list.d/openclaw-node.list";

describe("OpenClaw with Node from an apt source, on a booted Debian host (systemd-nspawn)", { skip }, () => {
  let host: BootedHost;
  let mirror: ServedMirror;
  let installed = false;
  const needsInstall = (t: TestContext) => installed || (t.skip("the install failed"), false);
  const secrets = {
    gatewayToken: `apt-${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`,
  };
  const spec = (key: string): OpenClawSpec => ({
    version: VERSION,
    port: PORT,
    bind: "loopback",
    exposedTo: [],
    mdns: false,
    npmRegistry: mirror.npmRegistry,
    node: { kind: "apt", version: MIRROR_NODE_VERSION, source: mirror.nodeAptSource, key },
    removeOnDestroy: true,
    keepReleases: 3,
  });

  /** One SSH session as the image's sudo user, the script on stdin, as remote.Command runs a step. */
  function install(s: OpenClawSpec): Promise<RunResult> {
    const privateKey = fs.readFileSync(host.clientKey, "utf8");
    return host.ssh(
      { host: host.server.v4, port: 22, user: host.user, privateKey },
      REMOTE_SHELL,
      composeOpenClawInstall(
        renderOpenClawInstallScript(s, HOST_DEFAULTS.stateDir),
        renderOpenClawSecrets(secrets),
      ),
      { timeoutMs: 60_000, perDialSeconds: 15 },
    );
  }
  const started = () => host.onServer(`systemctl show -p ActiveEnterTimestamp --value ${UNIT}`).trim();
  const nodejs = () =>
    host.onServer("dpkg-query -W -f '${Status} ${Version}' nodejs 2>/dev/null || true").trim();

  before(async () => {
    host = await newHost();
    mirror = await serveMirror(host.trusted.ns, host.trusted.v4, MIRROR_PORT);
  });
  after(() => mirror?.close());

  test("a repository signed by another key than the one given: apt's signature error, nothing installed", async (t) => {
    const r = await install(spec(openclawMirror().aptOtherKey));
    t.diagnostic(`stderr: ${r.stderr}`);
    assert.notEqual(r.code, 0, r.stdout);
    // apt's own words, then the step's.
    assert.match(r.stderr, /NO_PUBKEY [0-9A-F]{16}|is not signed/);
    assert.match(
      r.stderr,
      new RegExp(
        `FAILED: could not install nodejs=${MIRROR_NODE_VERSION} from ${mirror.nodeAptSource.replace(/[[\]./]/g, "\\$&")}: apt-get update failed$`,
        "m",
      ),
    );
    assert.equal(nodejs(), "");
    assert.equal(host.onServer("ls /usr/bin/node 2>/dev/null || true").trim(), "");
    assert.equal(host.onServer(`ls ${OPENCLAW_HOST.releases} 2>/dev/null || true`).trim(), "");
    assert.equal(host.onServer(`systemctl list-unit-files ${UNIT} | grep -c ${UNIT} || true`).trim(), "0");
    // The source is not left to fail the host's next `apt-get update`.
    assert.equal(host.onServer(`ls ${SOURCES_LIST} 2>/dev/null || true`).trim(), "");
  });

  test("install: nodejs from the apt source, its key at the signed-by path, the service on /usr/bin/node, healthy", async (t) => {
    const r = await install(spec(mirror.aptKey));
    assert.equal(r.code, 0, `install failed:\n${r.stdout}\n${r.stderr}`);
    t.diagnostic(`stdout: ${r.stdout}`);
    assert.equal(parseOpenClawVersion(r.stdout), VERSION);
    installed = true;
    assert.match(
      r.stdout,
      new RegExp(`installing Node ${MIRROR_NODE_VERSION} \\(nodejs\\) from the apt source`),
    );
    assert.equal(nodejs(), `install ok installed ${openclawMirror().aptNodeVersion}`);
    assert.equal(host.onServer("dpkg -S /usr/bin/node").trim(), "nodejs: /usr/bin/node");
    assert.equal(
      host.onServer("readlink -f /usr/bin/npm").trim(),
      "/usr/lib/node_modules/npm/bin/npm-cli.js",
    );
    assert.equal(host.onServer("/usr/bin/node --version").trim(), `v${MIRROR_NODE_VERSION}`);
    assert.equal(host.onServer(`cat ${SOURCES_LIST}`).trim(), mirror.nodeAptSource);
    // The armoured key, dearmored: apt reads a .gpg keyring only as binary; gpgv proves it is
    // the repository's key.
    assert.equal(host.onServer(`stat -c '%a %U' ${APT_KEYRING}`).trim(), "644 root");
    const repository = mirror.nodeAptSource.split(" ")[2];
    assert.match(
      host.onServer(
        `curl -fsS -o /tmp/InRelease ${repository}/dists/nodistro/InRelease && gpgv --keyring ${APT_KEYRING} /tmp/InRelease 2>&1 && echo verified`,
      ),
      /verified$/m,
    );
    assert.equal(host.onServer(`systemctl is-active ${UNIT}`).trim(), "active");
    const pid = host.onServer(`systemctl show -p MainPID --value ${UNIT}`).trim();
    assert.equal(host.onServer(`readlink /proc/${pid}/exe`).trim(), "/usr/bin/node");
    assert.equal(
      JSON.parse(
        host.onServer(
          `/usr/bin/node -e 'fetch("http://127.0.0.1:${PORT}/healthz").then(r => r.text()).then(t => console.log(t))'`,
        ),
      ).ok,
      true,
    );
    assert.equal(host.onServer(`ls ${OPENCLAW_HOST.nodeRoot}`).trim(), "", "no tarball Node as well");
  });

  test("the same inputs again install nothing and restart nothing", async (t) => {
    if (!needsInstall(t)) return;
    const before = started();
    const r = await install(spec(mirror.aptKey));
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /installing/);
    assert.match(r.stdout, new RegExp(`no changes: OpenClaw ${VERSION.replace(/\./g, "\\.")} is running`));
    assert.equal(started(), before, "the service was restarted");
  });

  test("a Node version the apt source does not offer: apt's versions named, the running service untouched", async (t) => {
    if (!needsInstall(t)) return;
    const before = started();
    const r = await install({
      ...spec(mirror.aptKey),
      node: { ...spec(mirror.aptKey).node, version: "24.22.4" },
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `FAILED: could not install nodejs=24\\.22\\.4 from .*: no nodejs 24\\.22\\.4 among the versions the apt sources offer \\(${openclawMirror().aptNodeVersion.replace(/\./g, "\\.")}\\)$`,
        "m",
      ),
    );
    assert.equal(nodejs(), `install ok installed ${openclawMirror().aptNodeVersion}`);
    assert.equal(started(), before);
    assert.equal(host.onServer(`systemctl is-active ${UNIT}`).trim(), "active");
  });

  test("remove: the service and the apt source go, the nodejs package stays, as it says", async (t) => {
    if (!needsInstall(t)) return;
    const privateKey = fs.readFileSync(host.clientKey, "utf8");
    const r = await host.ssh(
      { host: host.server.v4, port: 22, user: host.user, privateKey },
      REMOTE_SHELL,
      renderOpenClawRemoveScript(spec(mirror.aptKey)),
      { timeoutMs: 60_000, perDialSeconds: 15 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kept the nodejs package/);
    assert.equal(host.onServer(`ls ${SOURCES_LIST} /opt/openclaw 2>/dev/null || true`).trim(), "");
    assert.equal(nodejs(), `install ok installed ${openclawMirror().aptNodeVersion}`);
  });
});
