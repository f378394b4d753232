// Rules the project does not own, on a host first set up by hand the way the seed does it:
// verify compares everything the host admits with the policy, and hardening.unmanagedRules says
// what happens to the rest. Probed from trusted and untrusted peers over IPv4 and IPv6.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { applySteps } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, homeSteps, sandboxPool, hostSuiteSkip } from "../support/host/hostTest";
import { Oracle, declaredEntries } from "../support/admitted";
import type { Target } from "../support/host/netprobe";
import type { FirewallConfig } from "../../components/policy/types";
import { parsePolicy } from "../../components/policy/parse";
import { renderUfwRules } from "../../components/hardening/ufwRules";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The home stack with SSH narrowed to the admin network after the host was set up by hand. */
const NARROWED = {
  ...HOME_FIREWALL,
  ssh: { adminCidrs: ["198.51.100.0/24", "2001:db8:3::/64"] },
} as FirewallConfig;

/** What the host admits beyond NARROWED, as verify names it. */
const EXTRA = [
  "ufw allow 22/tcp",
  "ufw allow from 192.168.1.0/24 to any port 8000",
  "ufw allow 3306",
  "iptables -A INPUT -p tcp -m tcp --dport 9000 -j ACCEPT",
  "ip6tables -A INPUT -p tcp -m tcp --dport 9000 -j ACCEPT",
];
const BAN = "ufw deny from 203.0.113.66";

/**
 * The seed's commands, a stray `ufw allow 3306`, a fail2ban-style ban, and an ACCEPT put
 * straight into the kernel's INPUT chain (first in IPv4, last in IPv6, where UFW's chains have
 * already let it fall through).
 */
function handMade(sandbox: Sandbox): void {
  sandbox.onServer(
    [
      "ufw default deny incoming",
      "ufw default allow outgoing",
      "ufw allow ssh",
      "ufw allow from 192.168.1.0/24 to any port 8000",
      "ufw allow 3306",
      "ufw logging medium",
      "ufw --force enable",
      "ufw insert 1 deny from 203.0.113.66",
      "iptables -I INPUT 1 -p tcp --dport 9000 -j ACCEPT",
      "ip6tables -A INPUT -p tcp --dport 9000 -j ACCEPT",
    ]
      .map((c) => `${c} >/dev/null`)
      .join("\n"),
  );
}

/** Everything the firewall state is made of, as the host prints it. */
const hostState = (sandbox: Sandbox) =>
  sandbox.onServer(
    "ufw show added; iptables -S INPUT; ip6tables -S INPUT; iptables -S OUTPUT; ip6tables -S OUTPUT",
  ) + sandbox.userChains();

const TCP = [22, 8000, 3306, 9000];
const UDP = [8000, 3306];

/** Probes the server from each peer over both families, and what the declared policy says. */
async function admitted(
  sandbox: Sandbox,
  config: FirewallConfig,
): Promise<{ got: string[]; want: string[] }> {
  const truth = new Oracle(declaredEntries(config));
  const got: string[] = [];
  const want: string[] = [];
  for (const peer of [sandbox.trusted, sandbox.untrusted, sandbox.admin]) {
    const targets: Target[] = [
      ...TCP.map((port) => ({ port, protocol: "tcp" as const })),
      ...UDP.map((port) => ({ port, protocol: "udp" as const })),
    ].flatMap((t) => [
      { ...t, host: sandbox.server.v4 },
      { ...t, host: sandbox.server.v6 },
    ]);
    const outcomes = await sandbox.probe(peer, targets);
    targets.forEach((t, i) => {
      const from = t.host === sandbox.server.v4 ? peer.v4 : peer.v6;
      const label = `${t.protocol}/${t.port} from ${from}`;
      got.push(`${label}: ${outcomes[i] === "open" ? "open" : "blocked"}`);
      want.push(`${label}: ${truth.admits("in", t.protocol!, t.port, from) ? "open" : "blocked"}`);
    });
  }
  return { got, want };
}

describe("rules the project does not own (hardening.unmanagedRules)", { skip }, () => {
  test("fail (the default): harden refuses, names each rule and the option, and changes nothing", async () => {
    const sandbox = await newSandbox();
    handMade(sandbox);
    const before = hostState(sandbox);
    // Before: the whole internet reaches SSH, 8000 admits UDP from the LAN, 3306 and 9000 are open.
    const open = await sandbox.probe(sandbox.untrusted, [
      { host: sandbox.server.v4, port: 22 },
      { host: sandbox.server.v6, port: 22 },
      { host: sandbox.server.v4, port: 3306 },
      { host: sandbox.server.v4, port: 9000 },
    ]);
    assert.deepEqual(open, ["open", "open", "open", "open"]);

    const results = await applySteps(sandbox, await homeSteps(sandbox, { "openclaw:firewall": NARROWED }));
    assert.equal(results.length, 1, "verify must not run after a refused harden");
    const [harden] = results;
    assert.equal(harden!.code, 1, harden!.stdout);
    assert.match(
      harden!.stderr,
      /refusing to harden, nothing was changed: the host admits traffic the policy does not declare/,
    );
    for (const rule of EXTRA)
      assert.ok(harden!.stderr.includes(`\n  ${rule}\n`), `${rule} named in:\n${harden!.stderr}`);
    assert.match(
      harden!.stderr,
      /Set hardening\.unmanagedRules to remove .* or keep .*; with fail, the default, nothing is changed\./,
    );
    assert.doesNotMatch(harden!.stderr, /deny from 203\.0\.113\.66/, "a ban is not an unmanaged allow rule");
    assert.equal(hostState(sandbox), before);
    assert.doesNotMatch(sandbox.onServer(`ls -A ${sandbox.stateDir}`), /pending|snapshot/);
  });

  test("remove: the seed's host migrates to exactly the declared set; the ban stays", async () => {
    const sandbox = await newSandbox();
    handMade(sandbox);
    const steps = await homeSteps(sandbox, { "openclaw:firewall": NARROWED }, { unmanagedRules: "remove" });
    const { harden, verify } = await applyOk(sandbox, steps);
    for (const rule of EXTRA) {
      assert.ok(
        harden.includes(`(hardening.unmanagedRules: remove): ${rule}\n`),
        `${rule} removed:\n${harden}`,
      );
    }
    // The declared SSH rules were added before the hand-made `allow 22/tcp` was removed.
    assert.ok(
      harden.indexOf("adding: allow from 198.51.100.0/24 to any port 22") <
        harden.indexOf("(hardening.unmanagedRules: remove): ufw allow 22/tcp"),
      harden,
    );
    assert.match(verify, /verified: 3 declared rules in force/);

    const { policy } = parsePolicy(NARROWED);
    const added = sandbox
      .onServer("ufw show added")
      .split("\n")
      .filter((l) => l.startsWith("ufw "));
    assert.deepEqual([...added].sort(), [BAN, ...renderUfwRules(policy)].sort());
    assert.doesNotMatch(sandbox.onServer("iptables -S INPUT; ip6tables -S INPUT"), /-j ACCEPT/);

    const { got, want } = await admitted(sandbox, NARROWED);
    assert.deepEqual(got, want);
    // The declared set is not empty: the admin reaches SSH, the LAN reaches 8000/tcp over IPv4.
    assert.ok(
      got.includes("tcp/22 from 2001:db8:3::10: open") && got.includes("tcp/8000 from 192.168.1.10: open"),
    );

    // A second run finds nothing to do.
    const again = await applyOk(sandbox, steps);
    assert.match(again.harden, /no changes/);
  });

  test("remove, then verify fails: the rollback brings back every removed rule, the kernel's in place", async () => {
    const sandbox = await newSandbox();
    handMade(sandbox);
    const before = hostState(sandbox);
    const [harden, verify] = await homeSteps(
      sandbox,
      { "openclaw:firewall": NARROWED },
      { unmanagedRules: "remove" },
    );
    const converged = await applySteps(sandbox, [harden!]);
    assert.equal(converged[0]!.code, 0, converged[0]!.stderr);
    assert.notEqual(hostState(sandbox), before);
    // Someone adds a rule before the change is confirmed: verify fails and rolls back.
    sandbox.onServer("ufw allow 5555/udp >/dev/null");
    const failed = await applySteps(sandbox, [verify!]);
    assert.equal(failed[0]!.code, 1);
    assert.match(failed[0]!.stderr, /\n {2}ufw allow 5555\/udp\n/);
    assert.match(failed[0]!.stderr, /rolled back change/);
    assert.equal(hostState(sandbox), before);
  });

  test("keep: the rules stay in force and verify lists them", async () => {
    const sandbox = await newSandbox();
    handMade(sandbox);
    const steps = await homeSteps(sandbox, { "openclaw:firewall": NARROWED }, { unmanagedRules: "keep" });
    const { harden, verify } = await applyOk(sandbox, steps);
    assert.match(harden, /keeping 5 rules the policy does not declare \(hardening\.unmanagedRules: keep\)/);
    assert.match(verify, /kept, as hardening\.unmanagedRules is keep: 5 rules the policy does not declare/);
    for (const rule of EXTRA) assert.ok(verify.includes(`\n  ${rule}\n`), `${rule} listed in:\n${verify}`);
    assert.deepEqual(
      await sandbox.probe(sandbox.untrusted, [
        { host: sandbox.server.v4, port: 3306 },
        { host: sandbox.server.v6, port: 22 },
      ]),
      ["open", "open"],
    );
  });
});
