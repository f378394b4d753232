// The doors UFW leaves open, closed on the sandbox host: ports Docker publishes (forwarded past
// UFW's input rules) and sshd's password logins.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { applySteps, runStep, type RemoteStep } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";
import type { Target } from "../support/host/netprobe";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The gateway, published by Docker on 8080, is declared for the LAN only, over both families. */
const FIREWALL = {
  ...HOME_FIREWALL,
  services: [
    { name: "gateway", ports: [8080], protocol: "tcp", sources: ["192.168.1.0/24", "2001:db8:1::/64"] },
  ],
};

const steps = (sandbox: Sandbox, hardening: Record<string, unknown> = {}) =>
  homeSteps(sandbox, { "openclaw:firewall": FIREWALL }, hardening);
const apply = async (sandbox: Sandbox, s: RemoteStep[]) => {
  const { harden, verify } = await applyOk(sandbox, s);
  return harden + verify;
};

const gateway = (sandbox: Sandbox): Target[] => [
  { host: sandbox.server.v4, port: 8080 },
  { host: sandbox.server.v6, port: 8080 },
];

async function assertGatewayFollowsPolicy(sandbox: Sandbox, when: string): Promise<void> {
  assert.deepEqual(
    await sandbox.probe(sandbox.trusted, gateway(sandbox)),
    ["open", "open"],
    `${when}: trusted`,
  );
  assert.deepEqual(
    await sandbox.probe(sandbox.untrusted, gateway(sandbox)),
    ["blocked", "blocked"],
    `${when}: untrusted`,
  );
}

describe("ports Docker publishes", { skip }, () => {
  test("bypass UFW until the hardening governs them, through restarts and reboots", async () => {
    const sandbox = await newSandbox();
    await sandbox.publish(8080);
    // An operator's own rule in DOCKER-USER, which must survive everything below.
    sandbox.onServer("iptables -A DOCKER-USER -s 203.0.113.99 -j DROP");

    // With the Docker rules off, UFW says 8080 is LAN-only, yet the internet reaches it.
    await apply(sandbox, await steps(sandbox, { docker: false }));
    assert.match(
      sandbox.onServer("ufw status"),
      /^8080\/tcp +ALLOW +192\.168\.1\.0\/24 +# openclaw:gateway$/m,
    );
    assert.deepEqual(
      await sandbox.probe(sandbox.untrusted, gateway(sandbox)),
      ["open", "open"],
      "the bypass",
    );

    const out = await apply(sandbox, await steps(sandbox));
    assert.match(out, /verified: /);
    await assertGatewayFollowsPolicy(sandbox, "after hardening");
    assert.match(
      sandbox.onServer("iptables -S DOCKER-USER"),
      /^-A DOCKER-USER -s 203\.0\.113\.99\/32 -j DROP$/m,
    );

    await sandbox.publish(8080); // Docker restarts and rebuilds its rules
    await assertGatewayFollowsPolicy(sandbox, "after a Docker restart");

    sandbox.reboot();
    await sandbox.publish(8080); // Docker starts after UFW at boot
    await assertGatewayFollowsPolicy(sandbox, "after a reboot");

    // Turning the option off removes our chain and its boot copy, and nothing else.
    await apply(sandbox, await steps(sandbox, { docker: false }));
    assert.doesNotMatch(sandbox.onServer("iptables -S; cat /etc/ufw/after.rules"), /openclaw-docker-user/);
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, gateway(sandbox)), ["open", "open"]);
  });

  test("are governed when Docker is installed after the hardening ran", async () => {
    const sandbox = await newSandbox();
    await apply(sandbox, await steps(sandbox));
    await sandbox.publish(8080);
    await assertGatewayFollowsPolicy(sandbox, "Docker installed later");
  });

  test("a first run keeps others' DOCKER-USER rules; verify notices our jump removed, the next run restores it", async () => {
    const sandbox = await newSandbox();
    await sandbox.publish(8080);
    // The operator's own rule, there before the first run, which enables UFW.
    sandbox.onServer("iptables -A DOCKER-USER -s 203.0.113.99 -j DROP");
    const s = await steps(sandbox);
    await apply(sandbox, s);
    assert.match(
      sandbox.onServer("iptables -S DOCKER-USER"),
      /^-A DOCKER-USER -s 203\.0\.113\.99\/32 -j DROP$/m,
    );
    sandbox.onServer("iptables -D DOCKER-USER -j openclaw-docker-user");
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, [gateway(sandbox)[0]!]), ["open"]);
    const verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /iptables: DOCKER-USER does not jump to openclaw-docker-user/);
    await apply(sandbox, s);
    await assertGatewayFollowsPolicy(sandbox, "after the next run");
  });
});

describe("containers' own outgoing traffic", { skip }, () => {
  test("follows the outgoing allow-list, over IPv4 and IPv6; published ports still follow the policy", async () => {
    const sandbox = await newSandbox();
    await sandbox.publish(8080);
    await sandbox.listen(sandbox.untrusted, [443, 8443]);
    const out = [443, 8443].flatMap((port) => [
      { host: sandbox.untrusted.v4, port },
      { host: sandbox.untrusted.v6, port },
    ]);
    assert.deepEqual(await sandbox.probe(sandbox.container, out), ["open", "open", "open", "open"], "before");

    const firewall = {
      ...FIREWALL,
      outgoing: {
        policy: "deny",
        allow: [
          {
            name: "model-api",
            port: 443,
            protocol: "tcp",
            destinations: ["203.0.113.0/24", "2001:db8:2::/64"],
          },
        ],
      },
    };
    await apply(sandbox, await homeSteps(sandbox, { "openclaw:firewall": firewall }));
    // What the container opens is a reply's way back too: the allowed connections complete.
    assert.deepEqual(
      await sandbox.probe(sandbox.container, out),
      ["open", "open", "blocked", "blocked"],
      "after: the allow-list",
    );
    await assertGatewayFollowsPolicy(sandbox, "with outgoing denied");
  });
});

/**
 * IPv6 between the server, the trusted peer and the container without neighbour discovery, which
 * UFW with IPV6=no drops with the rest of the host's own IPv6: as over a tunnel, or with a
 * provider's static neighbours. Forwarded IPv6 then flows whatever the host's own rules say.
 */
function pinNeighbours(sandbox: Sandbox): void {
  const mac = (ns: string, dev: string) =>
    (JSON.parse(sandbox.inNs(ns, `ip -j link show ${dev}`)) as { address: string }[])[0]!.address;
  const pin = (ns: string, dev: string, address: string, lladdr: string) =>
    sandbox.inNs(ns, `ip -6 neigh replace ${address} lladdr ${lladdr} dev ${dev} nud permanent`);
  pin(sandbox.trusted.ns, "eth0", sandbox.server.v6, mac(sandbox.server.ns, "eth0"));
  pin(sandbox.server.ns, "eth0", sandbox.trusted.v6, mac(sandbox.trusted.ns, "eth0"));
  pin(sandbox.server.ns, "docker0", sandbox.container.v6, mac(sandbox.container.ns, "eth0"));
  pin(sandbox.container.ns, "eth0", "fd00:17::1", mac(sandbox.server.ns, "docker0"));
}

describe("ports Docker publishes over IPv6, with ipv6: false", { skip }, () => {
  test("are dropped, after UFW's start and a reboot too; verify notices the jump removed", async () => {
    const sandbox = await newSandbox();
    const firewall = {
      ...HOME_FIREWALL,
      ipv6: false,
      ssh: { adminCidrs: ["0.0.0.0/0"] },
      services: [{ name: "gateway", ports: [8080], protocol: "tcp", sources: ["192.168.1.0/24"] }],
    };
    const s = await homeSteps(sandbox, { "openclaw:firewall": firewall });
    await apply(sandbox, s);
    await sandbox.publish(8080); // Docker starts after UFW, as at boot
    pinNeighbours(sandbox);
    // The LAN over IPv4 as declared; over IPv6 (pinned neighbours), nothing. The internet, whose
    // router cannot find the server's IPv6 without neighbour discovery, is tried over IPv4.
    const expectDropped = async (when: string) => {
      assert.deepEqual(await sandbox.probe(sandbox.trusted, gateway(sandbox)), ["open", "blocked"], when);
      assert.deepEqual(await sandbox.probe(sandbox.untrusted, [gateway(sandbox)[0]!]), ["blocked"], when);
    };
    await expectDropped("after hardening");

    sandbox.reboot(); // UFW's start with IPV6=no replaces every IPv6 rule, before Docker starts
    await sandbox.publish(8080);
    await expectDropped("after a reboot");

    sandbox.onServer("ip6tables -D DOCKER-USER -j openclaw-docker-user");
    assert.deepEqual(await sandbox.probe(sandbox.trusted, [gateway(sandbox)[1]!]), ["open"], "the bypass");
    const verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /ip6tables: DOCKER-USER does not jump to openclaw-docker-user/);
  });
});

describe("sshd", { skip }, () => {
  test("password logins are refused afterwards, the deployment's key still works", async () => {
    const sandbox = await newSandbox();
    assert.equal(await sandbox.passwordLogin(), "accepted", "the image allows root by password at first");
    const out = await apply(sandbox, await steps(sandbox));
    // verify got in with the key over a new connection after the reload, and confirmed.
    assert.match(out, /reloading sshd[\s\S]*confirmed change/);
    assert.equal(await sandbox.passwordLogin(), "denied");
    assert.equal(
      fs.readFileSync(sandbox.sshdDropIn, "utf8"),
      "# Managed by the openclaw hardening (hardening.sshd): no password logins, root by key only.\n" +
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
    );
    assert.match(sandbox.sshd("-T"), /^passwordauthentication no$/m);
  });

  test("an invalid extra setting fails before sshd is touched; the old configuration stays", async () => {
    const sandbox = await newSandbox();
    // A pattern the option's check lets through (sshd's own grammar decides) and sshd -t refuses.
    const s = await steps(sandbox, { sshd: { settings: { AllowUsers: "root@192.0.2.0/99" } } });
    const [harden] = await applySteps(sandbox, s);
    assert.equal(harden!.code, 1);
    assert.match(
      harden!.stderr,
      /FAILED: sshd rejects the new settings, so they were taken back and sshd was not reloaded/,
    );
    assert.ok(!fs.existsSync(sandbox.sshdDropIn));
    assert.equal(await sandbox.passwordLogin(), "accepted", "the old configuration is still in force");
    // Nothing else was changed either: the firewall is still off.
    assert.match(sandbox.onServer("ufw status"), /Status: inactive/);
  });

  test("hardening.sshd false leaves sshd alone", async () => {
    const sandbox = await newSandbox();
    await apply(sandbox, await steps(sandbox, { sshd: false }));
    assert.ok(!fs.existsSync(sandbox.sshdDropIn));
    assert.equal(await sandbox.passwordLogin(), "accepted");
  });
});
