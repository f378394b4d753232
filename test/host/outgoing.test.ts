// The outgoing allow-list on the sandbox host: declared destinations reachable, everything else
// refused, and the deployment's SSH sessions unharmed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

const FIREWALL = {
  ...HOME_FIREWALL,
  outgoing: {
    policy: "deny",
    // A model provider's API, in the documentation range the untrusted peer lives in.
    allow: [
      { name: "model-api", port: 443, protocol: "tcp", destinations: ["203.0.113.0/24", "2001:db8:2::/64"] },
    ],
  },
};

describe("outgoing allow-list", { skip }, () => {
  test("a declared destination is reachable, an undeclared one is refused, SSH keeps working", async () => {
    const sandbox = await newSandbox();
    await sandbox.listen(sandbox.untrusted, [443, 8443]);
    await sandbox.listen(sandbox.trusted, [443]);
    const targets = [
      { host: sandbox.untrusted.v4, port: 443 },
      { host: sandbox.untrusted.v6, port: 443 },
      { host: sandbox.untrusted.v4, port: 8443 },
      { host: sandbox.untrusted.v6, port: 8443 },
      { host: sandbox.trusted.v4, port: 443 },
    ];
    assert.deepEqual(await sandbox.probe(sandbox.server, targets), ["open", "open", "open", "open", "open"]);

    // Harden's own session and verify's new login both get through. The sandbox, like a fresh
    // host, has loaded no conntrack before UFW's first enable, so harden's session is untracked:
    // only the ssh-replies rule lets it finish.
    const { harden, verify } = await applyOk(
      sandbox,
      await homeSteps(sandbox, { "openclaw:firewall": FIREWALL }),
    );
    assert.match(harden, /defaults deny incoming, deny outgoing/);
    assert.match(
      harden,
      /adding: allow out to 203\.0\.113\.0\/24 port 443 proto tcp comment 'openclaw:out:model-api'/,
    );
    assert.match(verify, /^Default: deny \(incoming\), deny \(outgoing\), disabled \(routed\)$/m);

    assert.deepEqual(await sandbox.probe(sandbox.server, targets), [
      "open",
      "open",
      "blocked",
      "blocked",
      "blocked",
    ]);
    // A third login, after the policy is in force.
    await assertNewLogin(sandbox, 22);
    // Inbound is unchanged: the LAN still reaches the API.
    assert.deepEqual(await sandbox.probe(sandbox.trusted, [{ host: sandbox.server.v4, port: 8000 }]), [
      "open",
    ]);
  });
});

/** A login after the policy is in force, over a new connection to `port`, gets through. */
async function assertNewLogin(sandbox: Sandbox, port: number): Promise<void> {
  const login = await sandbox.ssh(
    { host: sandbox.server.v4, port, user: "root", privateKey: fs.readFileSync(sandbox.clientKey, "utf8") },
    "true",
    "",
    { timeoutMs: 30_000, perDialSeconds: 5 },
  );
  assert.equal(login.code, 0, login.stderr);
}

/** Makes the server's sshd also listen at `address:port` (one family only), and waits for it. */
async function sshdAlsoListens(sandbox: Sandbox, address: string, port: number): Promise<void> {
  fs.writeFileSync(
    `/etc/netns/${sandbox.server.ns}/ssh/sshd_config.d/10-test-listen.conf`,
    `ListenAddress ${address}:${port}\n`,
  );
  process.kill(Number(fs.readFileSync(path.join(sandbox.dir, "sshd.pid"), "utf8")), "SIGHUP");
  const deadline = Date.now() + 10_000;
  while (!fs.readFileSync(sandbox.sshdLog, "utf8").includes(`Server listening on ${address} port ${port}`)) {
    assert.ok(Date.now() < deadline, `sshd did not listen on ${address} port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the SSH port as a source port, with outgoing denied", { skip }, () => {
  test("from 1024 up: the first enable finishes over it, and no local process opens connections from it", async () => {
    const sandbox = await newSandbox();
    // sshd holds 2222 on IPv4 only: on IPv6 any local process may bind it.
    await sshdAlsoListens(sandbox, "0.0.0.0", 2222);
    await sandbox.listen(sandbox.untrusted, [443, 8443, 8444]);
    /**
     * Whether `nobody` on the server connects to `port` on the untrusted peer, from [server]:2222.
     * Each target once: a port just used may linger in TIME_WAIT, hence SO_REUSEADDR too.
     */
    const nobodyFrom2222 = async (port: number) =>
      (
        await sandbox.exec(sandbox.server.ns, [
          ...["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c"],
          "import socket, sys\n" +
            "s = socket.socket(socket.AF_INET6)\n" +
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n" +
            "s.bind((sys.argv[1], 2222))\n" +
            "s.settimeout(3)\n" +
            "s.connect((sys.argv[2], int(sys.argv[3])))",
          ...[sandbox.server.v6, sandbox.untrusted.v6, String(port)],
        ])
      ).code === 0;
    assert.equal(await nobodyFrom2222(8444), true, "before: nobody gets out from port 2222");

    // A fresh host, as the sandbox is: harden's session over 2222 is one conntrack never saw.
    const { harden, verify } = await applyOk(
      sandbox,
      await homeSteps(sandbox, {
        "openclaw:existing": { address: sandbox.server.v4, sshPort: 2222 },
        "openclaw:firewall": { ...FIREWALL, ssh: { ...FIREWALL.ssh, port: 2222 } },
      }),
    );
    assert.match(harden, /defaults deny incoming, deny outgoing/);
    assert.match(verify, /^Default: deny \(incoming\), deny \(outgoing\), disabled \(routed\)$/m);

    // A connection from 2222 follows the allow-list like any other.
    assert.equal(await nobodyFrom2222(8443), false, "after: nobody's connection from 2222 is refused");
    assert.equal(await nobodyFrom2222(443), true, "after: an allowed destination, from 2222 too");
    await assertNewLogin(sandbox, 2222);
  });
});
