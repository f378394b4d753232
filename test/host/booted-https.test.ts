// The gateway over HTTPS on a booted Debian host (issue 20's proof), with nothing from the
// internet: the component's steps from the home stack's program with openclaw.https (the
// hardening with the policy's HTTPS services, OpenClaw from the local mirrors, and the proxy
// step installing Caddy from a local signed apt repository, caddyApt.ts, and getting its
// certificate from Pebble, pebble.ts, in the router's namespace, which validates for real).
// Every step runs over real SSH as the image's sudo user, exactly as the component sends it (a
// constant command, the script on stdin). One host for the file, its subtests in order: each
// starts from the state the one before left.
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { applyOk, HOME_FIREWALL, hostSuiteSkip } from "../support/host/hostTest";
import { deploySteps, runStep } from "../support/host/deploy";
import { bootedPool, probeTargets } from "../support/host/bootedTest";
import {
  MIRROR_NODE_VERSION,
  openclawMirror,
  serveMirror,
  type ServedMirror,
} from "../support/openclaw/openclawMirror";
import type { RunResult } from "../support/host/sandbox";
import { pebbleUnavailable, startPebble, TEST_DOMAIN, type Pebble } from "../support/https/pebble";
import { serveCaddyRepository, type ServedCaddyRepository } from "../support/https/caddyApt";
import { browserUnavailable, launchIn } from "../support/https/browser";
import { testOutputDir } from "../support/https/output";
import { OPENCLAW_CONFIG_FILE } from "../../components/openclaw/systemdUnit";
import { readMarkdown } from "../support/markdown";
import { REMOTE_SHELL } from "../../components/hardening/script";
import { HOST_DEFAULTS } from "../../components/hardening/options";
import {
  composeOpenClawInstall,
  parseOpenClawVersion,
  renderOpenClawInstallScript,
  renderOpenClawSecrets,
  renderOpenClawVerifyScript,
} from "../../components/openclaw/script";
import { proxyShell, renderProxyScript, type ProxyMode } from "../../components/proxy/script";
import {
  HTTPS_SERVICE,
  type HttpsSpec,
  type OpenClawSecretValues,
  type OpenClawSpec,
} from "../../components/openclaw/types";

const skip = hostSuiteSkip(bootedUnavailable() ?? pebbleUnavailable() ?? browserUnavailable());
const newHost = bootedPool();
const PORT = 18789;
const MIRROR_PORT = 8876;
const APT_PORT = 8877;
const VERSION = "2026.9.6";
/**
 * The certificates' lifetime (Pebble 2.4's `certificateValidityPeriod`): short enough that Caddy
 * renews while the file runs, as it must unattended. RENEW_CHECK is how often Caddy looks (the
 * component leaves Caddy's 10 minutes; the proxy script takes a test's shorter one).
 */
const LIFETIME_S = 180;
const RENEW_CHECK = "10s";
/**
 * Who may reach 443: the trusted peer on the LAN (the browser) and one WAN client, both
 * families. Not the admin peer, and not the CA's validators (the router): HTTP-01 on port 80,
 * open to the world, must carry the validation, as with a public CA and a restricted 443.
 */
const HTTPS_SOURCES = ["192.168.1.10/32", "2001:db8:1::10/128", "203.0.113.10/32", "2001:db8:2::10/128"];

/**
 * The home stack's firewall, with `openclaw-https` while `https` is on; the policy itself adds
 * `openclaw-acme-http` (80 from anywhere) then.
 */
function firewall(https: boolean) {
  return {
    ...HOME_FIREWALL,
    services: [
      ...HOME_FIREWALL.services,
      ...(https ? [{ name: HTTPS_SERVICE, port: 443, protocol: "tcp", sources: HTTPS_SOURCES }] : []),
    ],
  };
}

const token = (tag: string) =>
  `${tag}-${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`;

describe("the gateway over HTTPS behind Caddy, on a booted Debian host (systemd-nspawn)", { skip }, () => {
  let host: BootedHost;
  let pebble: Pebble;
  let mirror: ServedMirror;
  let repo: ServedCaddyRepository;
  /** Whether the proxy came up: the later subtests build on it. */
  let proxied = false;
  const needsProxy = (t: TestContext) => proxied || (t.skip("the proxy did not come up"), false);
  const secrets: OpenClawSecretValues = { gatewayToken: token("https") };

  const https = (): HttpsSpec => ({
    domain: TEST_DOMAIN,
    email: "tests@example.com",
    acmeDirectory: pebble.directory,
    // Both: Caddy trusts the directory's TLS with it, verify checks the issued chain against it.
    acmeRoot: `${pebble.listenerCa.trimEnd()}\n${pebble.root.trimEnd()}\n`,
    caddy: { kind: "apt", source: repo.source, key: repo.key },
    sources: HTTPS_SOURCES,
  });
  const spec = (withHttps: boolean): OpenClawSpec => ({
    version: VERSION,
    port: PORT,
    bind: "loopback",
    exposedTo: [],
    mdns: false,
    npmRegistry: mirror.npmRegistry,
    node: { kind: "tarball", version: MIRROR_NODE_VERSION, distUrl: mirror.nodeDistUrl },
    removeOnDestroy: true,
    keepReleases: 3,
    ...(withHttps ? { https: https() } : {}),
  });

  /** One SSH session as the image's sudo user, `stdin` the script, as remote.Command runs a step. */
  function run(command: string, stdin: string): Promise<RunResult> {
    const privateKey = fs.readFileSync(host.clientKey, "utf8");
    return host.ssh({ host: host.server.v4, port: 22, user: host.user, privateKey }, command, stdin, {
      timeoutMs: 60_000,
      perDialSeconds: 15,
    });
  }
  const installOpenClaw = (withHttps: boolean) =>
    run(
      REMOTE_SHELL,
      composeOpenClawInstall(
        renderOpenClawInstallScript(spec(withHttps), HOST_DEFAULTS.stateDir),
        renderOpenClawSecrets(secrets),
      ),
    );
  const verifyOpenClaw = (withHttps: boolean) =>
    run(REMOTE_SHELL, renderOpenClawVerifyScript(spec(withHttps)));
  const proxy = (mode: ProxyMode) =>
    run(proxyShell(mode), renderProxyScript(https(), PORT, { renewInterval: RENEW_CHECK }));
  const ok = (r: RunResult, what: string) =>
    assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

  /**
   * The `openclaw` CLI on the host as docs/openclaw.md tells operators to run it ("Approving a
   * browser"): its `oc() { ... }` function, as written there, then `oc ARGS`, over SSH as the
   * image's sudo user. So the documented command is the one proven.
   */
  function openclawCli(args: string): Promise<RunResult> {
    const doc = path.join(__dirname, "../../docs/openclaw.md");
    const block = readMarkdown(doc).blocks.find((b) => /^oc\(\) \{/m.test(b.text));
    assert.ok(block, `${doc} has no code block defining oc() { ... }`);
    const definition = block.text.slice(block.text.indexOf("oc() {"), block.text.indexOf("; }") + 3);
    return run("/bin/bash -s", `${definition}\noc ${args}\n`);
  }

  /** curl from namespace `ns`, trusting Pebble's root alone (no system store). */
  function curl(ns: string, args: string[]) {
    const file = path.join(host.dir, "pebble-root.pem");
    fs.writeFileSync(file, pebble.root);
    return host.exec(ns, [
      "curl",
      "-sS",
      "--max-time",
      "10",
      "--cacert",
      file,
      "--capath",
      "/nonexistent",
      ...args,
    ]);
  }

  before(async () => {
    host = await newHost();
    pebble = await startPebble(host, { validitySeconds: LIFETIME_S });
    mirror = await serveMirror(host.trusted.ns, host.trusted.v4, MIRROR_PORT);
    repo = await serveCaddyRepository(host.trusted.ns, host.trusted.v4, APT_PORT);
    await applyOk(host, await host.steps({ "openclaw:firewall": firewall(false) }));
  });
  after(() => {
    repo?.close();
    mirror?.close();
    pebble?.close();
  });

  /** The gateway's part of OpenClaw's config, and the firewall's rules: what turning https off must restore. */
  const gatewayState = () => ({
    config: (JSON.parse(host.onServer(`cat ${OPENCLAW_CONFIG_FILE}`)) as { gateway: unknown }).gateway,
    rules: host.userChains(),
  });
  let plain: ReturnType<typeof gatewayState> | undefined;

  test("before: OpenClaw on loopback without https, the firewall without 80 and 443", async () => {
    const install = await installOpenClaw(false);
    ok(install, "the OpenClaw install");
    ok(await verifyOpenClaw(false), "OpenClaw's verify");
    plain = gatewayState();
    assert.doesNotMatch(JSON.stringify(plain.config), /trustedProxies|https:/);
  });

  test("apply: OpenClaw configured for the proxy, Caddy from the apt source, a certificate from Pebble; both verify", async (t) => {
    // The component's own steps, in its order, from a run of the home stack's program with
    // openclaw.https set (as `pulumi up` runs them): the firewall with 443 and the derived 80
    // confirmed, OpenClaw told of the proxy and verified, the proxy and its verify.
    const steps = await deploySteps(host, "home", fs.readFileSync(host.clientKey, "utf8"), {
      "openclaw:sshUser": host.user,
      "openclaw:hardening": {},
      "openclaw:firewall": firewall(true),
      "openclaw:gatewayToken": secrets.gatewayToken,
      "openclaw:openclaw": {
        enabled: true,
        version: VERSION,
        npmRegistry: mirror.npmRegistry,
        node: { distUrl: mirror.nodeDistUrl, sha256: openclawMirror().nodeSha256 },
        https: {
          domain: TEST_DOMAIN,
          email: https().email,
          acmeDirectory: pebble.directory,
          acmeRoot: https().acmeRoot,
          caddy: { aptSource: repo.source, aptKey: repo.key },
        },
      },
    });
    const order = ["harden", "verify", "confirm", "openclaw", "openclaw-verify", "proxy", "proxy-verify"];
    for (const name of order.map((n) => `openclaw-${n}`)) {
      const step = steps.get(name);
      assert.ok(step, `the program registered no ${name}: ${[...steps.keys()].join(", ")}`);
      const r = await runStep(host, step);
      t.diagnostic(`${name}: ${r.stdout.split("\n").slice(-3).join(" | ")}`);
      ok(r, name);
      if (name === "openclaw-openclaw") assert.equal(parseOpenClawVersion(r.stdout), VERSION);
      if (name === "openclaw-proxy") proxied = true;
    }
    const gateway = gatewayState().config as {
      trustedProxies?: string[];
      controlUi?: { allowedOrigins?: string[] };
    };
    assert.deepEqual(gateway.trustedProxies, ["127.0.0.1", "::1"]);
    assert.deepEqual(gateway.controlUi?.allowedOrigins, [`https://${TEST_DOMAIN}`]);
    // The renewal below needs Caddy to look every few seconds, not every 10 minutes (its default,
    // which the component keeps): the same proxy step again with the test's option, an update.
    const apply = await proxy("apply");
    t.diagnostic(`apply: ${apply.stdout}`);
    ok(apply, "the proxy step with the test's renew interval");
    assert.match(apply.stdout, new RegExp(`^proxy-domain: ${TEST_DOMAIN.replace(/\./g, "\\.")}$`, "m"));
    assert.equal(repo.misses(), "");
    assert.match(pebble.log(), /set VALID by completed challenge/);
    const verify = await proxy("verify");
    t.diagnostic(`verify: ${verify.stdout}`);
    ok(verify, "the proxy's verify");
    ok(await verifyOpenClaw(true), "OpenClaw's verify");
  });

  test("from the WAN, trusting Pebble's root alone: the gateway over HTTPS, HTTP redirected, 18789 unreachable", async (t) => {
    if (!needsProxy(t)) return;
    const health = await curl(host.untrusted.ns, [`https://${TEST_DOMAIN}/healthz`]);
    assert.equal(health.code, 0, health.stderr);
    assert.equal((JSON.parse(health.stdout) as { ok: boolean }).ok, true);
    const redirect = await curl(host.untrusted.ns, [
      ...["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"],
      `http://${TEST_DOMAIN}/healthz`,
    ]);
    assert.match(
      redirect.stdout,
      new RegExp(`^30[18] https://${TEST_DOMAIN.replace(/\./g, "\\.")}/healthz$`),
    );
    assert.deepEqual(await host.probe(host.untrusted, probeTargets(host, [443, 80, PORT])), [
      "open",
      "open",
      "open",
      "open",
      "blocked",
      "blocked",
    ]);
  });

  test("from a source the policy does not admit to 443: nothing on 443 (80 stays open, for the CA)", async (t) => {
    if (!needsProxy(t)) return;
    assert.deepEqual(await host.probe(host.admin, probeTargets(host, [443, 80, PORT])), [
      "blocked",
      "blocked",
      "open",
      "open",
      "blocked",
      "blocked",
    ]);
    const r = await curl(host.admin.ns, ["--connect-timeout", "3", `https://${TEST_DOMAIN}/healthz`]);
    assert.notEqual(r.code, 0);
  });

  /** The pending pairing requests and the paired devices, as `openclaw devices list --json` prints them. */
  async function devices(): Promise<{
    pending: { requestId: string; clientId: string; remoteIp: string }[];
    paired: { deviceId: string; clientId?: string }[];
  }> {
    const r = await openclawCli("devices list --json");
    assert.equal(r.code, 0, `openclaw devices list failed:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout) as Awaited<ReturnType<typeof devices>>;
  }

  test("Chromium in the trusted namespace: the Control UI over HTTPS with the token; its new device waits (not local), approved over SSH it connects", async (t) => {
    if (!needsProxy(t)) return;
    const out = testOutputDir("booted-https");
    const browser = await launchIn(host.trusted.ns, pebble.root, path.join(host.dir, "browser"));
    try {
      const page = await browser.context.newPage();
      const text = async () => (await page.locator("body").innerText()).replace(/\s+/g, " ");
      // The page loads only because the browser trusts Pebble's root (booted-acme shows another
      // root failing); the UI asks for the gateway's token.
      const response = await page.goto(`https://${TEST_DOMAIN}/`, { timeout: 60_000 });
      assert.equal(response?.status(), 200);
      const secret = page.getByRole("textbox", { name: "Gateway secret" });
      await secret.waitFor({ timeout: 60_000 });
      await secret.fill(secrets.gatewayToken);
      await page.getByRole("button", { name: "Connect", exact: true }).click();

      // The token passed; the device is new and the gateway saw the browser's own address (the
      // proxy is trusted, the client is not local): a pending request, nothing approved.
      await page.getByText("Approve this browser").waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(out, "control-ui-pairing.png") });
      const waiting = await devices();
      t.diagnostic(`pending: ${JSON.stringify(waiting.pending)}`);
      assert.equal(waiting.pending.length, 1, JSON.stringify(waiting));
      const request = waiting.pending[0]!;
      assert.equal(request.clientId, "openclaw-control-ui");
      // Either family: the hosts file gives the domain both, and Chromium races them.
      assert.ok([host.trusted.v4, host.trusted.v6].includes(request.remoteIp), request.remoteIp);
      assert.deepEqual(waiting.paired, []);
      assert.match(await text(), new RegExp(`openclaw devices approve ${request.requestId}`));
      // Still waiting after a while: nothing approves it behind the operator's back.
      await page.waitForTimeout(5000);
      assert.deepEqual((await devices()).paired, []);
      assert.match(await text(), /Waiting for approval/);

      // The operator approves it over SSH, as docs/openclaw.md says; the page connects on its own.
      const approve = await openclawCli(`devices approve ${request.requestId}`);
      assert.equal(approve.code, 0, `${approve.stdout}\n${approve.stderr}`);
      assert.match(approve.stdout, /^Approved /m);
      await page.getByText("Connected", { exact: true }).first().waitFor({ timeout: 60_000 });
      const shot = path.join(out, "control-ui-connected.png");
      await page.screenshot({ path: shot });
      t.diagnostic(`screenshot: ${shot}`);
      const connected = await text();
      t.diagnostic(`page: ${connected.slice(0, 600)}`);
      // The gateway's status as the UI shows it: its name, connected.
      assert.match(connected, /OpenClaw gateway Connected/);
      assert.doesNotMatch(connected, /Approve this browser|Gateway secret/);
      assert.equal((await devices()).paired.length, 1);
    } finally {
      await browser.close();
    }
  });

  /** The serial and end of the certificate the WAN is served, as openssl prints them. */
  const servedCertificate = async () =>
    (
      await host.exec(host.untrusted.ns, [
        "sh",
        "-c",
        `openssl s_client -connect ${TEST_DOMAIN}:443 -servername ${TEST_DOMAIN} </dev/null 2>/dev/null | openssl x509 -noout -serial -enddate`,
      ])
    ).stdout.trim();

  test(`renewal: Caddy replaces the ${LIFETIME_S} s certificate unattended; the WAN client still trusts it and verify stays green`, async (t) => {
    if (!needsProxy(t)) return;
    const first = await servedCertificate();
    assert.match(first, /^serial=/);
    const deadline = Date.now() + LIFETIME_S * 1000;
    let now = first;
    while (now === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      now = await servedCertificate();
    }
    t.diagnostic(`served: ${first.replace(/\n/g, " ")}; then: ${now.replace(/\n/g, " ")}`);
    assert.notEqual(now, first, `the certificate was not renewed within ${LIFETIME_S} s`);
    assert.match(host.journal("-u caddy"), /certificate renewed successfully/);
    assert.ok((pebble.log().match(/Issued certificate serial/g)?.length ?? 0) >= 2);
    const health = await curl(host.untrusted.ns, [`https://${TEST_DOMAIN}/healthz`]);
    assert.equal(health.code, 0, health.stderr);
    ok(await proxy("verify"), "the proxy's verify after the renewal");
  });

  test("https off: the proxy removed, 80 and 443 closed, the gateway as it was before", async (t) => {
    if (!needsProxy(t) || !plain) return;
    // In the component's order: the proxy step's delete, OpenClaw without the proxy, then the
    // firewall without its services.
    const remove = await proxy("remove");
    ok(remove, "the proxy's removal");
    ok(await installOpenClaw(false), "the OpenClaw install without https");
    await applyOk(host, await host.steps({ "openclaw:firewall": firewall(false) }));
    ok(await verifyOpenClaw(false), "OpenClaw's verify");
    assert.equal(host.onServer("systemctl is-active caddy || true").trim(), "inactive");
    assert.equal(host.onServer("systemctl is-enabled caddy 2>/dev/null || true").trim(), "disabled");
    assert.equal(host.onServer("ss -Hltn '( sport = :80 or sport = :443 )'").trim(), "");
    assert.deepEqual(gatewayState(), plain);
    for (const peer of [host.untrusted, host.trusted])
      assert.deepEqual(await host.probe(peer, probeTargets(host, [443, 80, PORT])), [
        "blocked",
        "blocked",
        "blocked",
        "blocked",
        "blocked",
        "blocked",
      ]);
  });
});
