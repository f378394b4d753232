// The outgoing allow-list on the sandbox host: declared destinations reachable, everything else
// refused, and the deployment's SSH sessions unharmed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { sandboxUnavailable } from "../support/sandbox";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/hostTest";

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
    const again = await sandbox.ssh(
      {
        host: sandbox.server.v4,
        port: 22,
        user: "root",
        privateKey: fs.readFileSync(sandbox.clientKey, "utf8"),
      },
      "true",
      "",
      { timeoutMs: 30_000, perDialSeconds: 5 },
    );
    assert.equal(again.code, 0, again.stderr);
    // Inbound is unchanged: the LAN still reaches the API.
    assert.deepEqual(await sandbox.probe(sandbox.trusted, [{ host: sandbox.server.v4, port: 8000 }]), [
      "open",
    ]);
  });
});
