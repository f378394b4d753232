// The HTTPS tests' own infrastructure, proven on a booted Debian host before anything is built
// on it: Caddy installed from the local signed apt repository (caddyApt.ts), with a Caddyfile
// written here by hand, gets a real certificate from Pebble (pebble.ts) after Pebble's own
// validation from the router's namespace; a client on the WAN that trusts Pebble's root alone
// gets the page over HTTPS; headless Chromium in the trusted namespace opens it, trusting that
// root through its NSS database, and a screenshot is saved. One host for the file, its subtests
// in order.
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";
import { ACME_HOST, pebbleUnavailable, startPebble, TEST_DOMAIN, type Pebble } from "../support/https/pebble";
import { CADDY_KEYRING, serveCaddyRepository, type ServedCaddyRepository } from "../support/https/caddyApt";
import { browserUnavailable, launchIn } from "../support/https/browser";
import { testOutputDir } from "../support/https/output";

const skip = hostSuiteSkip(bootedUnavailable() ?? pebbleUnavailable() ?? browserUnavailable());
const newHost = bootedPool();
const APT_PORT = 8875;
const PAGE = "served by Caddy for the ACME test";
/**
 * The certificates' lifetime: Pebble 2.4 takes `certificateValidityPeriod`. Caddy renews in the
 * last third of a lifetime, looking every RENEW_CHECK.
 */
const LIFETIME_S = 90;
const RENEW_CHECK = "10s";
/** The hand-written Caddyfile: Pebble's directory, its listener's CA, the page. */
const CADDYFILE = (directory: string) =>
  [
    "{",
    "\temail tests@example.com",
    `\tacme_ca ${directory}`,
    "\tacme_ca_root /etc/caddy/acme-ca-root.pem",
    `\trenew_interval ${RENEW_CHECK}`,
    "}",
    `${TEST_DOMAIN} {`,
    `\trespond "${PAGE}" 200`,
    "}",
    "",
  ].join("\n");

describe("Pebble, Caddy from a local apt source, and Chromium, on a booted Debian host", { skip }, () => {
  let host: BootedHost;
  let pebble: Pebble;
  let repo: ServedCaddyRepository;
  let installed = false;
  let issued = false;
  const needsInstall = (t: TestContext) => installed || (t.skip("Caddy did not install"), false);
  const needsCertificate = (t: TestContext) => issued || (t.skip("no certificate was issued"), false);

  before(async () => {
    host = await newHost();
    pebble = await startPebble(host, { validitySeconds: LIFETIME_S });
    repo = await serveCaddyRepository(host.trusted.ns, host.trusted.v4, APT_PORT);
  });
  after(() => {
    repo?.close();
    pebble?.close();
  });

  /** curl from namespace `ns` trusting the PEM `ca` alone (no system store). */
  function curl(ns: string, args: string[], ca = pebble.root) {
    const file = path.join(host.dir, `ca-${Math.random().toString(36).slice(2)}.pem`);
    fs.writeFileSync(file, ca);
    return host
      .exec(ns, ["curl", "-sS", "--max-time", "10", "--cacert", file, "--capath", "/nonexistent", ...args])
      .finally(() => fs.rmSync(file, { force: true }));
  }

  test("Caddy installs from the local repository, apt checking its Release against the test key", () => {
    // By hand, as an operator would: the key at the signed-by path, the source, apt. Only that
    // source is read: the image's Debian one is not reachable offline.
    fs.writeFileSync(path.join(host.root, CADDY_KEYRING), repo.key);
    fs.writeFileSync(
      path.join(host.root, "etc/apt/sources.list.d/openclaw-test-caddy.list"),
      `${repo.source}\n`,
    );
    const out = host.onServer(
      [
        "apt-get -q -o Dir::Etc::sourcelist=/dev/null update 2>&1",
        "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dir::Etc::sourcelist=/dev/null install caddy 2>&1",
        "dpkg-query -W -f '${Status} ${Version}\\n' caddy",
      ].join(" && "),
    );
    assert.match(out, /^install ok installed 2\.6\.2/m, out);
    assert.equal(repo.misses(), "");
    installed = true;
  });

  test("with the other key apt refuses the repository", (t) => {
    if (!needsInstall(t)) return;
    fs.writeFileSync(path.join(host.root, "usr/share/keyrings/openclaw-test-other.asc"), `${repo.otherKey}`);
    const list = path.join(host.root, "etc/apt/sources.list.d/openclaw-test-caddy.list");
    fs.writeFileSync(
      list,
      `${repo.source.replace(CADDY_KEYRING, "/usr/share/keyrings/openclaw-test-other.asc")}\n`,
    );
    const out = host.onServer("apt-get -q -o Dir::Etc::sourcelist=/dev/null update 2>&1 || echo FAILED");
    fs.writeFileSync(list, `${repo.source}\n`);
    assert.match(out, /NO_PUBKEY|not signed/, out);
  });

  /** The router's hosts file: where Pebble looks the domain up before it validates. */
  const routerHosts = () => `/etc/netns/${host.router}/hosts`;
  const served = async () => await curl(host.untrusted.ns, [`https://${TEST_DOMAIN}/`]);
  /** The serial of the certificate the WAN is served, as openssl prints it. */
  const servedSerial = async () => {
    const r = await host.exec(host.untrusted.ns, [
      "sh",
      "-c",
      `openssl s_client -connect ${TEST_DOMAIN}:443 -servername ${TEST_DOMAIN} </dev/null 2>/dev/null | openssl x509 -noout -serial -enddate`,
    ]);
    return r.stdout.trim();
  };

  test("Pebble validates for real: the domain pointing elsewhere, Caddy gets no certificate", async (t) => {
    if (!needsInstall(t)) return;
    // From the CA's side, the domain is the trusted peer's address, where nothing listens.
    const hosts = fs.readFileSync(routerHosts(), "utf8");
    fs.writeFileSync(
      routerHosts(),
      hosts
        .replace(`${host.server.v4} ${TEST_DOMAIN}`, `${host.trusted.v4} ${TEST_DOMAIN}`)
        .replace(`${host.server.v6} ${TEST_DOMAIN}`, `${host.trusted.v6} ${TEST_DOMAIN}`),
    );
    try {
      fs.writeFileSync(path.join(host.root, "etc/caddy/acme-ca-root.pem"), pebble.listenerCa);
      fs.writeFileSync(path.join(host.root, "etc/caddy/Caddyfile"), CADDYFILE(pebble.directory));
      host.onServer("systemctl restart caddy");
      const deadline = Date.now() + 60_000;
      while (!/set INVALID/.test(pebble.log()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      assert.match(pebble.log(), /set INVALID/);
      assert.doesNotMatch(pebble.log(), /Issued certificate/);
      const r = await served();
      assert.notEqual(r.code, 0, r.stdout);
    } finally {
      // Caddy stopped first, so that no retry of its goes out while Pebble may still hold the
      // wrong address: Go's resolver keeps a hosts file's contents for 5 seconds.
      host.onServer("systemctl stop caddy");
      fs.writeFileSync(routerHosts(), hosts);
      await new Promise((r) => setTimeout(r, 6000));
    }
  });

  test("Caddy gets a certificate from Pebble, which validated the challenge against the host", async (t) => {
    if (!needsInstall(t)) return;
    host.onServer("systemctl start caddy");
    const deadline = Date.now() + 120_000;
    let last;
    for (;;) {
      last = await served();
      if (last.code === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    t.diagnostic(
      `pebble: ${pebble
        .log()
        .split("\n")
        .filter((l) => /VALID|Issued/.test(l))
        .join(" | ")}`,
    );
    assert.equal(last.code, 0, `${last.stderr}\n${host.journal("-u caddy -n 40")}\n${pebble.log()}`);
    assert.equal(last.stdout, PAGE);
    issued = true;
    // Pebble set the authorization valid by a challenge it checked against the host.
    assert.match(pebble.log(), /set VALID by completed challenge/);
    assert.match(host.journal("-u caddy"), /certificate obtained successfully/);
    assert.match(host.journal("-u caddy"), new RegExp(ACME_HOST.replace(/\./g, "\\.")));
  });

  test("from the WAN: HTTPS trusting Pebble's root alone; not with the listener's CA; HTTP redirected", async (t) => {
    if (!needsCertificate(t)) return;
    const ok = await curl(host.untrusted.ns, [
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{ssl_verify_result}",
      `https://${TEST_DOMAIN}/`,
    ]);
    assert.equal(ok.stdout, "200 0", ok.stderr);
    const wrong = await curl(host.untrusted.ns, [`https://${TEST_DOMAIN}/`], pebble.listenerCa);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /certificate/i);
    const http = await curl(host.untrusted.ns, [
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{redirect_url}",
      `http://${TEST_DOMAIN}/`,
    ]);
    assert.equal(http.stdout, `308 https://${TEST_DOMAIN}/`, http.stderr);
  });

  test("Chromium in the trusted namespace opens the page, trusting Pebble's root; a screenshot is saved", async (t) => {
    if (!needsCertificate(t)) return;
    const trusting = await launchIn(host.trusted.ns, pebble.root, path.join(host.dir, "browser"));
    try {
      const page = await trusting.context.newPage();
      const response = await page.goto(`https://${TEST_DOMAIN}/`, { timeout: 30_000 });
      assert.equal(response?.status(), 200);
      assert.equal((await page.textContent("body"))?.trim(), PAGE);
      const shot = path.join(testOutputDir("booted-acme"), "page.png");
      await page.screenshot({ path: shot });
      t.diagnostic(`screenshot: ${shot}`);
      assert.ok(fs.statSync(shot).size > 0);
    } finally {
      await trusting.close();
    }
    // The same browser with another root in its store: the page does not load.
    const other = await launchIn(host.trusted.ns, pebble.listenerCa, path.join(host.dir, "browser-other"));
    try {
      const page = await other.context.newPage();
      await assert.rejects(
        page.goto(`https://${TEST_DOMAIN}/`, { timeout: 30_000 }),
        /ERR_CERT_AUTHORITY_INVALID/,
      );
    } finally {
      await other.close();
    }
  });

  test(`renewal: a ${LIFETIME_S} s certificate is replaced unattended before it ends, and stays trusted`, async (t) => {
    if (!needsCertificate(t)) return;
    const first = await servedSerial();
    assert.match(first, /^serial=/);
    const deadline = Date.now() + LIFETIME_S * 1000;
    let now = first;
    while (now === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      now = await servedSerial();
    }
    t.diagnostic(`first: ${first.replace(/\n/g, " ")}; then: ${now.replace(/\n/g, " ")}`);
    assert.notEqual(now, first, "the certificate was not renewed within its lifetime");
    assert.match(host.journal("-u caddy"), /certificate renewed successfully/);
    const r = await served();
    assert.equal(r.code, 0, r.stderr);
    // Pebble issued it: a second order validated and a second serial issued.
    assert.ok((pebble.log().match(/Issued certificate serial/g)?.length ?? 0) >= 2, pebble.log());
  });
});
