// OpenClaw on a booted Debian host (systemd-nspawn): the rendered install, verify and remove
// scripts run over real SSH as the image's sudo user, exactly as the component sends them (a
// constant command, the script on stdin), with Node and the real `openclaw` package from local
// mirrors served on the LAN (openclawMirror.ts): nothing reaches the internet. One host for the
// whole file, its subtests in order: each starts from the state the one before left.
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { applyOk, HOME_FIREWALL, hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool, probeTargets } from "../support/host/bootedTest";
import { MIRROR_NODE_VERSION, serveMirror, type ServedMirror } from "../support/openclaw/openclawMirror";
import type { RunResult } from "../support/host/sandbox";
import { REMOTE_SHELL } from "../../components/hardening/script";
import { HOST_DEFAULTS } from "../../components/hardening/options";
import {
  OPENCLAW_RECOVERY_DIR,
  OPENCLAW_STEP_LOG,
  composeOpenClawInstall,
  parseOpenClawVersion,
  renderOpenClawInstallScript,
  renderOpenClawRemoveScript,
  renderOpenClawSecrets,
  renderOpenClawVerifyScript,
} from "../../components/openclaw/script";
import { OPENCLAW_HOST, type OpenClawSecretValues, type OpenClawSpec } from "../../components/openclaw/types";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();
const PORT = 18789;
const MIRROR_PORT = 8873;
const OLD = "2026.9.5";
const NEW = "2026.9.6";
const UNIT = OPENCLAW_HOST.unit;
/** The LAN, both families: the policy's sources for the gateway's port when it is exposed. */
const LAN = ["192.168.1.0/24", "2001:db8:1::/64"];

const token = (tag: string) =>
  `${tag}-${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`;

describe("OpenClaw on a booted Debian host (systemd-nspawn)", { skip }, () => {
  let host: BootedHost;
  let mirror: ServedMirror;
  /** Whether the first install succeeded: the later subtests build on it. */
  let installed = false;
  const needsInstall = (t: TestContext) => installed || (t.skip("the first install failed"), false);
  let secrets: OpenClawSecretValues = { gatewayToken: token("first"), anthropicApiKey: token("sk-ant") };
  const spec = (version: string, bind: "loopback" | "lan"): OpenClawSpec => ({
    version,
    port: PORT,
    bind,
    exposedTo: bind === "lan" ? LAN : [],
    mdns: false,
    npmRegistry: mirror.npmRegistry,
    node: { kind: "tarball", version: MIRROR_NODE_VERSION, distUrl: mirror.nodeDistUrl },
    removeOnDestroy: true,
    keepReleases: 3,
  });
  /** The install step's stdin, as the component composes it. */
  const installScript = (s: OpenClawSpec) =>
    composeOpenClawInstall(
      renderOpenClawInstallScript(s, HOST_DEFAULTS.stateDir),
      renderOpenClawSecrets(secrets),
    );

  /** One SSH session as the image's sudo user, the script on stdin, as remote.Command runs a step. */
  function run(script: string): Promise<RunResult> {
    const privateKey = fs.readFileSync(host.clientKey, "utf8");
    return host.ssh({ host: host.server.v4, port: 22, user: host.user, privateKey }, REMOTE_SHELL, script, {
      timeoutMs: 60_000,
      perDialSeconds: 15,
    });
  }
  const install = (s: OpenClawSpec) => run(installScript(s));
  async function installOk(s: OpenClawSpec): Promise<string> {
    const r = await install(s);
    assert.equal(r.code, 0, `install failed:\n${r.stdout}\n${r.stderr}`);
    assert.equal(parseOpenClawVersion(r.stdout), s.version);
    return r.stdout;
  }
  const started = () => host.onServer(`systemctl show -p ActiveEnterTimestamp --value ${UNIT}`).trim();
  const currentRelease = () => path.basename(host.onServer(`readlink ${OPENCLAW_HOST.current}`).trim());
  /** The Node the steps installed, for one-liners on the host. */
  const hostNode = `${OPENCLAW_HOST.nodeRoot}/${MIRROR_NODE_VERSION}/bin/node`;
  const healthz = () =>
    host.onServer(
      `${hostNode} -e 'fetch("http://127.0.0.1:${PORT}/healthz").then(r => r.text()).then(t => console.log(t))'`,
    );
  /** A filesystem of the test's own, named from its id, unmounted only if it is still that one. */
  const scratchMount = (dir: string) => `oc${host.id}-${path.basename(dir)}`;
  const unmount = (dir: string) =>
    host.onServer(`if [ "$(findmnt -n -o SOURCE ${dir})" = ${scratchMount(dir)} ]; then umount ${dir}; fi`);
  /** Waits until no install step holds the host's OpenClaw lock. */
  async function stepEnded(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (host.onServer("flock -n /run/openclaw-gateway.lock true && echo free || true").trim() !== "free") {
      if (Date.now() > deadline) throw new Error(`the install step still runs after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  /**
   * Starts the install step over SSH as `run` does, and kills the SSH client once the step has
   * printed `at`: the session drops (as when the deployer's network goes) and the step goes on
   * alone. Resolves with what it printed until then.
   */
  function installThenDrop(s: OpenClawSpec, at: RegExp): Promise<string> {
    const child = spawn(
      "ip",
      [
        ...["netns", "exec", host.admin.ns, "ssh", "-F", "/dev/null", "-i", host.clientKey],
        ...["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes"],
        ...["-o", `UserKnownHostsFile=${path.join(host.dir, "known_hosts")}`, "-o", "LogLevel=ERROR"],
        ...["-T", `${host.user}@${host.server.v4}`, REMOTE_SHELL],
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    child.stdin.on("error", () => undefined);
    child.stdin.end(installScript(s));
    return new Promise((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (!at.test(out)) return;
        clearTimeout(timer);
        child.kill("SIGKILL");
        resolve(out);
      });
      child.on("exit", () => {
        clearTimeout(timer);
        reject(new Error(`the step ended before printing ${at}:\n${out}\n${err}`));
      });
    });
  }
  /** POST /tools/invoke from the trusted peer with `bearer`: it needs the gateway's token. */
  async function invoke(bearer: string): Promise<string> {
    // The header from a file: the token is in no command line on the machine.
    const header = path.join(host.dir, "auth-header");
    fs.writeFileSync(header, `Authorization: Bearer ${bearer}\n`, { mode: 0o600 });
    const r = await host.exec(host.trusted.ns, [
      ...["curl", "-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", `@${header}`],
      ...["-H", "content-type: application/json", "-d", '{"tool":"session_status","args":{}}'],
      `http://${host.server.v4}:${PORT}/tools/invoke`,
    ]);
    fs.rmSync(header);
    return r.stdout.trim();
  }
  /** What every process on the machine (the booted host's among them) has as its command line. */
  function sampleProcesses(secretsToFind: string[]): {
    stop: () => Promise<{ samples: number; found: string[] }>;
  } {
    let running = true;
    let samples = 0;
    const found = new Set<string>();
    const loop = (async () => {
      while (running) {
        const out = await new Promise<string>((resolve) => {
          let text = "";
          const ps = spawn("ps", ["-eo", "args"], { stdio: ["ignore", "pipe", "ignore"] });
          ps.stdout.on("data", (d: Buffer) => (text += d.toString()));
          ps.on("close", () => resolve(text));
        });
        samples++;
        for (const s of secretsToFind) if (out.includes(s)) found.add(s);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { samples, found: [...found] };
      },
    };
  }

  before(async () => {
    host = await newHost();
    mirror = await serveMirror(host.trusted.ns, host.trusted.v4, MIRROR_PORT);
    // The firewall admits the gateway's port from the LAN, both families; from nowhere else.
    const firewall = {
      ...HOME_FIREWALL,
      services: [
        ...HOME_FIREWALL.services,
        { name: "openclaw-gateway", port: PORT, protocol: "tcp", sources: LAN },
      ],
    };
    await applyOk(host, await host.steps({ "openclaw:firewall": firewall }));
  });
  after(() => mirror?.close());

  test("a Node tarball whose SHA-256 differs from the pinned one is not installed, nor any release or service", async () => {
    const r = await install({
      ...spec(OLD, "loopback"),
      node: {
        kind: "tarball",
        version: MIRROR_NODE_VERSION,
        distUrl: mirror.nodeDistUrl,
        sha256: "0".repeat(64),
      },
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `node-v${MIRROR_NODE_VERSION}-linux-x64\\.tar\\.xz from .* has SHA-256 [0-9a-f]{64}, expected 0{64}: not installed`,
      ),
    );
    assert.equal(
      host
        .onServer(`ls ${OPENCLAW_HOST.nodeRoot} ${OPENCLAW_HOST.releases}`)
        .replace(/\S+:\n?/g, "")
        .trim(),
      "",
    );
    assert.equal(host.onServer(`systemctl list-unit-files ${UNIT} | grep -c ${UNIT} || true`).trim(), "0");
  });

  test("install: Node and OpenClaw from the mirrors, a sandboxed service as openclaw, healthy, no secret in sight", async () => {
    const watch = sampleProcesses(Object.values(secrets) as string[]);
    const result = await install(spec(OLD, "loopback"));
    const { samples, found } = await watch.stop();
    assert.equal(result.code, 0, `install failed:\n${result.stdout}\n${result.stderr}`);
    const out = result.stdout;
    assert.equal(parseOpenClawVersion(out), OLD);
    installed = true;
    assert.ok(samples > 20, `only ${samples} samples of the process list`);
    assert.deepEqual(found, [], "a secret in a process's command line during the install");
    assert.match(out, new RegExp(`installing Node ${MIRROR_NODE_VERSION} from ${mirror.nodeDistUrl}`));
    assert.match(out, new RegExp(`installing OpenClaw ${OLD} from ${mirror.npmRegistry}`));
    assert.equal(host.onServer(`systemctl is-active ${UNIT}`).trim(), "active");
    assert.equal(host.onServer(`systemctl is-enabled ${UNIT}`).trim(), "enabled");
    const pid = host.onServer(`systemctl show -p MainPID --value ${UNIT}`).trim();
    assert.equal(host.onServer(`ps -o user= -p ${pid}`).trim(), "openclaw");
    assert.equal(
      host.onServer("getent passwd openclaw | cut -d: -f6,7").trim(),
      `${OPENCLAW_HOST.stateDir}:/usr/sbin/nologin`,
    );
    assert.equal(JSON.parse(healthz()).ok, true);
    assert.equal(host.onServer(`stat -c '%a %U' ${OPENCLAW_HOST.envFile}`).trim(), "600 root");
    assert.equal(host.onServer(`stat -c '%a %U' ${OPENCLAW_HOST.stateDir}`).trim(), "700 openclaw");
    assert.equal(
      host.onServer(`stat -c '%a %U' ${OPENCLAW_HOST.stateDir}/openclaw.json`).trim(),
      "600 openclaw",
    );
    const config = host.onServer(`cat ${OPENCLAW_HOST.stateDir}/openclaw.json`);
    assert.equal(JSON.parse(config).gateway.bind, "loopback");
    // The sandbox as systemd applies it, read back from the running unit.
    const props = host.onServer(
      `systemctl show -p User -p NoNewPrivileges -p ProtectSystem -p ReadWritePaths -p PrivateTmp -p CapabilityBoundingSet ${UNIT}`,
    );
    assert.match(props, /^User=openclaw$/m);
    assert.match(props, /^NoNewPrivileges=yes$/m);
    assert.match(props, /^ProtectSystem=strict$/m);
    assert.match(props, new RegExp(`^ReadWritePaths=${OPENCLAW_HOST.stateDir}$`, "m"));
    assert.match(props, /^CapabilityBoundingSet=$/m);
    // Its user cannot write the code it runs.
    assert.equal(
      host
        .onServer(
          `runuser -u openclaw -- touch ${OPENCLAW_HOST.releases}/${OLD}/x 2>/dev/null && echo wrote || echo denied`,
        )
        .trim(),
      "denied",
    );
    const journal = host.journal("-b");
    for (const s of Object.values(secrets) as string[]) {
      assert.ok(!journal.includes(s), "a secret in the journal");
      assert.ok(!out.includes(s), "a secret in the step's output");
      assert.ok(!config.includes(s), "a secret in openclaw.json");
    }
    assert.ok(host.onServer(`cat ${OPENCLAW_HOST.envFile}`).includes(secrets.gatewayToken));

    // Bound to loopback: nothing outside the host reaches it, though the firewall admits the LAN.
    const targets = probeTargets(host, [PORT]);
    assert.deepEqual(await host.probe(host.trusted, targets), ["refused", "refused"]);
    assert.deepEqual(await host.probe(host.untrusted, targets), ["blocked", "blocked"]);
    const verify = await run(renderOpenClawVerifyScript(spec(OLD, "loopback")));
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    assert.match(verify.stdout, /listening on port 18789: 127\.0\.0\.1:18789/);
    assert.match(verify.stdout, /security audit: 0 critical/);
  });

  test("exposed (lan): reachable from the LAN, not from the internet; the same inputs again restart nothing", async (t) => {
    if (!needsInstall(t)) return;
    const out = await installOk(spec(OLD, "lan"));
    assert.match(out, /changed: config, unit; restarting/);
    const targets = probeTargets(host, [PORT]);
    // OpenClaw's lan bind is 0.0.0.0: IPv4 only. Over IPv6 the firewall admits the LAN and
    // nothing listens (refused); the internet is dropped in both families.
    assert.deepEqual(await host.probe(host.trusted, targets), ["open", "refused"]);
    assert.deepEqual(await host.probe(host.untrusted, targets), ["blocked", "blocked"]);
    const verify = await run(renderOpenClawVerifyScript(spec(OLD, "lan")));
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    assert.match(verify.stdout, /listening on port 18789: 0\.0\.0\.0:18789/);

    const before = started();
    const again = await installOk(spec(OLD, "lan"));
    assert.match(again, /no changes: OpenClaw 2026\.9\.5 is running/);
    assert.equal(started(), before, "the service was restarted");
  });

  test("a token change restarts the service: the old token is refused, the new one accepted", async (t) => {
    if (!needsInstall(t)) return;
    assert.equal(await invoke(secrets.gatewayToken), "200");
    const old = secrets.gatewayToken;
    const before = started();
    secrets = { ...secrets, gatewayToken: token("second") };
    const out = await installOk(spec(OLD, "lan"));
    assert.match(out, /changed: environment file; restarting/);
    assert.notEqual(started(), before);
    assert.equal(await invoke(old), "401");
    assert.equal(await invoke(secrets.gatewayToken), "200");
    assert.equal(await invoke("not-the-token"), "401");
  });

  test("upgrade to 2026.9.6 and back down to 2026.9.5, each restarting the service", async (t) => {
    if (!needsInstall(t)) return;
    let before = started();
    const up = await installOk(spec(NEW, "lan"));
    assert.match(up, /installing OpenClaw 2026\.9\.6/);
    assert.match(up, /saved the state of OpenClaw 2026\.9\.5 as its recovery point/);
    assert.match(up, /version 2026\.9\.5 -> 2026\.9\.6/);
    assert.equal(currentRelease(), NEW);
    assert.notEqual(started(), before);
    assert.equal(JSON.parse(healthz()).ok, true);
    before = started();
    const down = await installOk(spec(OLD, "lan"));
    assert.doesNotMatch(down, /installing OpenClaw/, "the old release is kept and reused");
    assert.match(down, /version 2026\.9\.6 -> 2026\.9\.5/);
    // 2026.9.6 migrated the databases to schemas 2026.9.5 refuses: its recovery point comes back.
    assert.match(
      down,
      /downgrade: OpenClaw 2026\.9\.5 cannot read the state 2026\.9\.6 migrated; restored the state saved when 2026\.9\.5 left service/,
    );
    assert.equal(JSON.parse(healthz()).ok, true);
    assert.equal(currentRelease(), OLD);
    assert.notEqual(started(), before);
  });

  test("no room for the recovery point: refused before the gateway stops, which goes on serving", async (t) => {
    if (!needsInstall(t)) return;
    // The state outgrows a small filesystem of the test's own, mounted where recovery points go.
    const filler = `${OPENCLAW_HOST.stateDir}/oc${host.id}-filler`;
    host.onServer(
      `head -c 32M /dev/zero >${filler} && chown openclaw: ${filler} && ` +
        `mount -t tmpfs -o size=24m,mode=700 ${scratchMount(OPENCLAW_RECOVERY_DIR)} ${OPENCLAW_RECOVERY_DIR}`,
    );
    try {
      const before = started();
      const r = await install(spec(NEW, "lan"));
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(
        r.stderr,
        /not enough space for the recovery point: copying \/var\/lib\/openclaw-gateway to \/var\/lib\/openclaw-gateway-recovery\/2026\.9\.5 needs \d+ MiB \(the state, \d+ MiB, and 16 MiB to spare\), and \/var\/lib\/openclaw-gateway-recovery has 2[34] MiB free; nothing was changed/,
      );
      assert.equal(started(), before, "the gateway was stopped or restarted");
      assert.equal(currentRelease(), OLD);
      assert.equal(JSON.parse(healthz()).ok, true);
    } finally {
      unmount(OPENCLAW_RECOVERY_DIR);
      host.onServer(`rm -f ${filler}`);
    }
  });

  test("a failure once the gateway is stopped (no room for the new environment file): the previous release and files, healthy", async (t) => {
    if (!needsInstall(t)) return;
    const envDir = path.dirname(OPENCLAW_HOST.envFile);
    const saved = `/run/oc${host.id}-env`;
    // The environment file's directory on a filesystem of the test's own, full.
    host.onServer(
      `cp -a ${envDir} ${saved} && mount -t tmpfs -o size=64k,mode=700 ${scratchMount(envDir)} ${envDir} && ` +
        `cp -a ${saved}/. ${envDir}/ && { head -c 1M /dev/zero >${envDir}/filler 2>/dev/null || true; }`,
    );
    const previous = secrets;
    try {
      const before = started();
      secrets = { ...secrets, gatewayToken: token("unwritten") };
      const r = await install(spec(NEW, "lan"));
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(
        r.stdout,
        /saved the state of OpenClaw 2026\.9\.5 as its recovery point/,
        "not after the stop",
      );
      assert.match(r.stderr, /No space left on device/);
      assert.match(
        r.stderr,
        /FAILED: the install step failed \(exit \d+\); back on OpenClaw 2026\.9\.5 with its environment file, config and unit from before this step, which is healthy/,
      );
      assert.notEqual(started(), before);
      assert.equal(currentRelease(), OLD);
      assert.equal(JSON.parse(healthz()).ok, true);
      assert.equal(
        host.onServer(`ls -A ${envDir}`).split("\n").filter(Boolean).sort().join(" "),
        "filler gateway.env",
      );
    } finally {
      secrets = previous;
      unmount(envDir);
      host.onServer(`rm -rf ${saved}`);
    }
    assert.equal(await invoke(secrets.gatewayToken), "200", "the previous token no longer works");
  });

  test("a config change that fails its health check (its port taken): the previous config and unit, healthy", async (t) => {
    if (!needsInstall(t)) return;
    const taken = PORT + 1;
    const listener = `oc${host.id}-listener`;
    // Another program holds the new port: it accepts connections and never answers.
    host.onServer(
      `systemd-run --quiet --unit=${listener} ${hostNode} -e 'require("net").createServer(() => {}).listen(${taken}, "0.0.0.0")' && ` +
        `for i in $(seq 50); do ss -ltnH "sport = :${taken}" | grep -q . && break; sleep 0.2; done`,
    );
    try {
      const before = started();
      const r = await install({ ...spec(OLD, "lan"), port: taken });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stdout, /changed: config, unit; restarting/);
      assert.match(
        r.stderr,
        /OpenClaw 2026\.9\.5 with the new config, unit failed its health check; back on OpenClaw 2026\.9\.5 with its environment file, config and unit from before this step, which is healthy/,
      );
      const config = JSON.parse(host.onServer(`cat ${OPENCLAW_HOST.stateDir}/openclaw.json`));
      assert.equal(config.gateway.port, PORT);
      assert.match(
        host.onServer(`systemctl show -p ExecStart --value ${UNIT}`),
        new RegExp(`--port ${PORT} --bind lan`),
      );
      assert.notEqual(started(), before);
      assert.equal(JSON.parse(healthz()).ok, true);
    } finally {
      host.onServer(`systemctl stop ${listener} 2>/dev/null || true`);
    }
  });

  test("the session drops during an upgrade: the step, alone, puts the previous release back once it has stopped the gateway", async (t) => {
    if (!needsInstall(t)) return;
    // 2026.9.6 installed anew: the step spends a while in npm, the session gone, before the stop.
    host.onServer(`rm -rf ${OPENCLAW_HOST.releases}/${NEW} ${OPENCLAW_STEP_LOG}`);
    const before = started();
    await installThenDrop(spec(NEW, "lan"), /installing OpenClaw 2026\.9\.6/);
    await stepEnded(600_000);
    assert.notEqual(started(), before, "the step never stopped the gateway");
    assert.equal(currentRelease(), OLD);
    assert.equal(host.onServer(`systemctl is-active ${UNIT} || true`).trim(), "active");
    assert.equal(JSON.parse(healthz()).ok, true);
    const log = host.onServer(`cat ${OPENCLAW_STEP_LOG} 2>/dev/null || true`);
    t.diagnostic(`${OPENCLAW_STEP_LOG}:\n${log}`);
    assert.match(log, /got SIG(PIPE|HUP) \(the session dropped, or the step was stopped\)/);
    assert.match(
      log,
      /FAILED: the install step got SIG(PIPE|HUP) \(its session dropped, or it was stopped\); back on OpenClaw 2026\.9\.5 with its environment file, config and unit from before this step, which is healthy/,
    );
  });

  test("a release that fails its health check: back on the previous version, healthy", async (t) => {
    if (!needsInstall(t)) return;
    // The kept 2026.9.6 release, broken on the host: its entry exits at once.
    host.onServer(
      `echo 'process.exit(1)' >${OPENCLAW_HOST.releases}/${NEW}/node_modules/openclaw/openclaw.mjs`,
    );
    const r = await install(spec(NEW, "lan"));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /OpenClaw 2026\.9\.6 failed its health check; back on OpenClaw 2026\.9\.5 with its environment file, config and unit from before this step, which is healthy/,
    );
    assert.equal(currentRelease(), OLD);
    assert.equal(host.onServer(`systemctl is-active ${UNIT}`).trim(), "active");
    assert.equal(JSON.parse(healthz()).ok, true);
    // A version the registry does not have changes nothing.
    const before = started();
    const bogus = await install(spec("2026.9.99", "lan"));
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /npm could not install openclaw@2026\.9\.99 .*nothing was changed/);
    assert.equal(started(), before);
    assert.equal(currentRelease(), OLD);
  });

  test("verify fails on a critical audit finding, naming its checkId and remediation", async (t) => {
    if (!needsInstall(t)) return;
    const config = `${OPENCLAW_HOST.stateDir}/openclaw.json`;
    host.onServer(`chmod 666 ${config}`);
    try {
      const r = await run(renderOpenClawVerifyScript(spec(OLD, "lan")));
      assert.notEqual(r.code, 0);
      assert.match(
        r.stdout,
        new RegExp(`critical audit finding fs\\.config\\.perms_writable: .*Remediation: chmod 600 ${config}`),
      );
      assert.match(r.stderr, /openclaw security audit found critical problems/);
    } finally {
      host.onServer(`chmod 600 ${config}`);
    }
    const ok = await run(renderOpenClawVerifyScript(spec(OLD, "lan")));
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
  });

  test("after a reboot the service comes back healthy", async (t) => {
    if (!needsInstall(t)) return;
    const boot = host.onServer("cat /proc/sys/kernel/random/boot_id").trim();
    host.onServer("systemctl reboot");
    assert.equal(await host.rebooted(), 133);
    assert.notEqual(host.onServer("cat /proc/sys/kernel/random/boot_id").trim(), boot);
    const verify = await (async () => {
      // The gateway takes 15 to 30 s to answer after the boot, several times that on a loaded
      // machine; the bound is for a gateway that never answers.
      const deadline = Date.now() + 5 * 60_000;
      for (;;) {
        const r = await run(renderOpenClawVerifyScript(spec(OLD, "lan")));
        if (r.code === 0 || Date.now() > deadline) return r;
        await new Promise((res) => setTimeout(res, 3000));
      }
    })();
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    assert.deepEqual(await host.probe(host.trusted, probeTargets(host, [PORT])), ["open", "refused"]);
  });

  test("remove: the service, releases, Node and environment file go; the state stays", async (t) => {
    if (!needsInstall(t)) return;
    const r = await run(renderOpenClawRemoveScript(spec(OLD, "lan")));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(host.onServer(`systemctl is-active ${UNIT} || true`).trim(), "inactive");
    assert.equal(
      host.onServer(
        `ls -d /etc/systemd/system/${UNIT} ${OPENCLAW_HOST.envFile} /opt/openclaw 2>/dev/null || true`,
      ),
      "",
    );
    assert.match(host.onServer(`ls ${OPENCLAW_HOST.stateDir}`), /^openclaw\.json$/m);
    assert.match(r.stdout, /kept \/var\/lib\/openclaw-gateway/);
  });
});
