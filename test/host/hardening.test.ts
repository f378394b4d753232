// The hardening on a real host: sshd, ufw and iptables in network namespaces, reached over a
// real SSH connection, probed with real TCP connections over IPv4 and IPv6.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { runStep } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";
import type { Target } from "../support/host/netprobe";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { renderUfwRules } from "../../components/hardening/ufwRules";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

const steps = homeSteps;
const apply = applyOk;

const ownedRules = (sandbox: Sandbox) =>
  sandbox
    .onServer("ufw show added")
    .split("\n")
    .filter((l) => l.startsWith("ufw "));

const userChains = (sandbox: Sandbox) => sandbox.userChains();

function targets(sandbox: Sandbox, ports: number[]): Target[] {
  return ports.flatMap((port) => [
    { host: sandbox.server.v4, port },
    { host: sandbox.server.v6, port },
  ]);
}

describe("host hardening on a sandbox host", { skip }, () => {
  test("the seed's home stack: SSH open, 8000/tcp only from 192.168.1.0/24, everything else blocked", async () => {
    const sandbox = await newSandbox();
    const s = await steps(sandbox);
    const before = await sandbox.probe(sandbox.untrusted, targets(sandbox, [8000]));
    assert.deepEqual(before, ["open", "open"], "without a firewall the service answers everyone");

    const { harden, verify } = await apply(sandbox, s);
    // The one SSH session that enabled the firewall survived it and reported to the end.
    assert.match(
      harden,
      /enabling the firewall \(SSH is already allowed\)\n[\s\S]*converged: 2 added, 0 removed/,
    );
    assert.match(verify, /confirmed change .* from a new SSH connection: rollback disarmed/);
    assert.match(verify, /^Logging: on \(medium\)$/m);
    assert.match(verify, /^Default: deny \(incoming\), allow \(outgoing\), disabled \(routed\)$/m);

    const ports = [22, 8000, 8001, 3306];
    const expected = {
      // 22 everywhere; 8000 only from the LAN over IPv4 (the declared source is an IPv4 CIDR).
      trusted: ["open", "open", "open", "blocked", "blocked", "blocked", "blocked", "blocked"],
      untrusted: ["open", "open", "blocked", "blocked", "blocked", "blocked", "blocked", "blocked"],
    };
    assert.deepEqual(await sandbox.probe(sandbox.trusted, targets(sandbox, ports)), expected.trusted);
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, targets(sandbox, ports)), expected.untrusted);
    assert.deepEqual(ownedRules(sandbox), [
      "ufw allow 22/tcp comment 'openclaw:ssh'",
      "ufw allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api'",
    ]);
  });

  test("drift: our rules edited or deleted by hand come back; others' rules, fail2ban's included, stay", async () => {
    const sandbox = await newSandbox();
    // The operator's rule admits more than the policy: kept only because they said so
    // (test/host/unmanaged.test.ts has the default, fail, and remove).
    const s = await steps(sandbox, {}, { unmanagedRules: "keep" });
    await apply(sandbox, s);
    const ours = ownedRules(sandbox);

    // An operator's rule, a fail2ban ban (its ufw action inserts a deny at the top), and one of
    // our rules widened by hand (deleted, then re-added from anywhere with our comment).
    sandbox.onServer("ufw allow 3306 >/dev/null");
    sandbox.onServer("ufw insert 1 deny from 203.0.113.66 to any >/dev/null");
    sandbox.onServer("ufw allow 8000/tcp comment 'openclaw:openclaw-api' >/dev/null");
    sandbox.onServer(
      "ufw delete allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api' >/dev/null",
    );
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, targets(sandbox, [8000])), ["open", "open"]);

    // Verify alone sees all of it and fails, printing the difference.
    const verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1, verify.stderr);
    assert.match(
      verify.stderr,
      /< ufw allow from 192\.168\.1\.0\/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api'/,
    );
    assert.match(verify.stderr, /> ufw allow 8000\/tcp comment 'openclaw:openclaw-api'/);

    // The next hardening run (pulumi up --replace of the harden step) restores ours only.
    const { harden } = await apply(sandbox, s);
    assert.match(harden, /converged: 1 added, 1 removed/);
    const after = ownedRules(sandbox);
    assert.deepEqual(
      after.filter((l) => l.includes("'openclaw:")),
      ours,
    );
    assert.ok(after.includes("ufw allow 3306"), "the operator's rule is kept");
    assert.ok(after.includes("ufw deny from 203.0.113.66"), "the fail2ban ban is kept");
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, targets(sandbox, [8000, 3306, 22])), [
      "blocked",
      "blocked",
      "open",
      "open",
      "open",
      "open",
    ]);

    // A rule removed from the kernel behind UFW's back: `ufw status` still shows it. (IPv6, so
    // the deployer's IPv4 way in stays open.)
    const chains = userChains(sandbox);
    sandbox.onServer("ip6tables -D ufw6-user-input -p tcp --dport 22 -j ACCEPT");
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, [{ host: sandbox.server.v6, port: 22 }]), [
      "blocked",
    ]);
    const kernelVerify = await runStep(sandbox, s[1]!);
    assert.equal(kernelVerify.code, 1);
    assert.match(
      kernelVerify.stderr,
      /the kernel's rules differ from UFW's files:\n {2}missing from the kernel: ip6tables -A ufw6-user-input -p tcp -m tcp --dport 22 -j ACCEPT/,
    );
    const repaired = await apply(sandbox, s);
    assert.match(
      repaired.harden,
      /reloading the user chains atomically\n.*change \S+ is in force.*\n.*converged: 0 added, 0 removed/,
    );
    assert.equal(userChains(sandbox), chains);
    assert.deepEqual(await sandbox.probe(sandbox.untrusted, [{ host: sandbox.server.v6, port: 22 }]), [
      "open",
    ]);
  });

  test("update without exposure: CIDRs and ports change while a prober sees no wrong answer", async () => {
    const sandbox = await newSandbox();
    const policyA = {
      ...HOME_FIREWALL,
      services: [
        { name: "openclaw-api", ports: [8000], protocol: "tcp", sources: ["192.168.1.0/24", "10.20.0.0/16"] },
        { name: "metrics", ports: [9000], protocol: "tcp", sources: ["192.168.1.0/24"] },
      ],
    };
    const policyB = {
      ...HOME_FIREWALL,
      services: [
        // 10.20.0.0/16 removed, 2001:db8:1::/64 added, metrics moved from 9000 to 9001.
        {
          name: "openclaw-api",
          ports: [8000],
          protocol: "tcp",
          sources: ["192.168.1.0/24", "2001:db8:1::/64"],
        },
        { name: "metrics", ports: [9001], protocol: "tcp", sources: ["192.168.1.0/24"] },
      ],
    };
    await apply(sandbox, await steps(sandbox, { "openclaw:firewall": policyA }));
    const toB = await steps(sandbox, { "openclaw:firewall": policyB });

    // Open before and after: 8000 from the LAN over IPv4. Blocked before and after: 8000 from
    // the internet, over both families, and 8080 from the LAN.
    // A generous timeout on the open port: a slow answer under load is not a closed port.
    const open = sandbox.watch(sandbox.trusted, [{ host: sandbox.server.v4, port: 8000 }], 3000);
    const blocked = sandbox.watch(sandbox.untrusted, targets(sandbox, [8000]));
    const blockedLan = sandbox.watch(sandbox.trusted, [{ host: sandbox.server.v4, port: 8080 }]);
    await new Promise((r) => setTimeout(r, 1000));
    const { harden } = await apply(sandbox, toB);
    await new Promise((r) => setTimeout(r, 1000));
    const [openWatch, blockedWatch, blockedLanWatch] = await Promise.all([
      open.stop(),
      blocked.stop(),
      blockedLan.stop(),
    ]);
    const seen = JSON.stringify({ openWatch, blockedWatch, blockedLanWatch });

    assert.match(harden, /converged: 2 added, 2 removed/);
    // Rounds whose controls did not answer are void and not counted (verdicts.ts).
    const wrong =
      openWatch.counts[0]!.blocked +
      openWatch.counts[0]!.refused +
      [...blockedWatch.counts, ...blockedLanWatch.counts].reduce((n, c) => n + c.open, 0);
    assert.ok(openWatch.counts[0]!.open > 20, `the prober ran: ${seen}`);
    assert.ok(blockedWatch.counts[0]!.blocked > 3, `the prober ran: ${seen}`);
    assert.equal(wrong, 0, seen);
    // And the change itself took effect.
    assert.deepEqual(await sandbox.probe(sandbox.trusted, targets(sandbox, [8000, 9000, 9001])), [
      "open",
      "open",
      "blocked",
      "blocked",
      "open",
      "blocked",
    ]);
  });

  test("lockout: a policy that shuts the deployer out of SSH is rolled back by the host", async () => {
    const sandbox = await newSandbox();
    const hardening = { rollbackAfter: 30, perDialTimeout: 2, timeout: "2m" };
    await apply(sandbox, await steps(sandbox, {}, hardening));
    const before = userChains(sandbox);

    // SSH only from the untrusted network: the deployer (198.51.100.10) is no longer admitted.
    const locked = await steps(
      sandbox,
      { "openclaw:firewall": { ...HOME_FIREWALL, ssh: { adminCidrs: ["203.0.113.0/24"] } } },
      hardening,
    );
    const harden = await runStep(sandbox, locked[0]!);
    assert.equal(harden.code, 0, harden.stderr);
    assert.match(harden.stdout, /change \S+ is in force; unless a new SSH connection confirms it within 30s/);

    // Verify is kept out until the host rolls the change back by itself, then reports it.
    // The host records whole seconds: rounded up, a rollback in the same second as the first
    // dial does not count as after it.
    const dialling = Math.ceil(Date.now() / 1000) * 1000;
    const verify = await runStep(sandbox, locked[1]!, 120_000);
    assert.equal(verify.code, 1, verify.stderr);
    const rolled =
      /FAILED: the host rolled back change \S+ at (\S+) \(no new SSH connection confirmed it within 30s of it being in force\); the rules from before it are in force\. The policy does not admit 198\.51\.100\.10, the address this SSH connection comes from, to port 22: if you deploy from there, add it to firewall\.ssh\.adminCidrs/.exec(
        verify.stderr,
      );
    assert.ok(rolled, verify.stderr);
    assert.ok(verify.dials > 1, "the first dials were refused by the new policy");
    assert.ok(
      Date.parse(rolled[1]!) >= dialling,
      `the rollback (${rolled[1]}) came after verify began dialling (${new Date(dialling).toISOString()})`,
    );

    // SSH works again, and the kernel holds exactly the rules from before.
    const again = await sandbox.ssh(locked[0]!.connection, "true", "", {
      timeoutMs: 30_000,
      perDialSeconds: 5,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(userChains(sandbox), before);
  });

  test("bad input never reaches the host: it fails before any SSH connection", async () => {
    const sandbox = await newSandbox();
    const bad: [string, unknown][] = [
      [
        "openclaw:firewall",
        { ...HOME_FIREWALL, services: [{ name: "api; reboot", ports: [8000], sources: ["192.168.1.0/24"] }] },
      ],
      [
        "openclaw:firewall",
        {
          ...HOME_FIREWALL,
          services: [{ name: "api", ports: [8000], sources: ["192.168.1.0/24 $(reboot)"] }],
        },
      ],
      ["openclaw:firewall", { ...HOME_FIREWALL, ssh: { adminCidrs: ["10.0.0.0/33"] } }],
      [
        "openclaw:firewall",
        { ...HOME_FIREWALL, services: [{ name: "api", ports: ["8000`id`"], sources: ["192.168.1.0/24"] }] },
      ],
      ["openclaw:sshUser", "root; reboot"],
      ["openclaw:hardening", { stateDir: "/tmp/x'; reboot #" }],
    ];
    for (const [key, value] of bad) {
      await assert.rejects(
        steps(sandbox, { [key]: value }),
        PolicyError,
        `${key} = ${JSON.stringify(value)}`,
      );
    }
    assert.deepEqual(sandbox.sshdConnections(), [], "sshd logged a connection");
    // The same pipeline with good input does connect, so the check above can fail.
    await apply(sandbox, await steps(sandbox));
    assert.ok(sandbox.sshdConnections().length >= 2);
  });

  test("idempotence: the second and third runs change nothing, down to the kernel's rules", async () => {
    const sandbox = await newSandbox();
    const s = await steps(sandbox);
    const first = await apply(sandbox, s);
    assert.match(first.harden, /converged: 2 added/);
    const chains = userChains(sandbox);
    const files = sandbox.onServer(
      "cat /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw",
    );
    for (const run of [2, 3]) {
      const { harden, verify } = await apply(sandbox, s);
      assert.equal(
        harden,
        "openclaw: no changes: the firewall is active and its 2 declared rules are in force\n",
        `run ${run}`,
      );
      assert.doesNotMatch(verify, /confirmed change/, "nothing was armed, so nothing to confirm");
      // Harden found everything in agreement, under the lock: verify does not check it again.
      assert.match(verify, /as the last check found them in agreement with the policy/, `run ${run}`);
      assert.equal(userChains(sandbox), chains, `run ${run}: kernel rules changed`);
      assert.equal(
        sandbox.onServer("cat /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw"),
        files,
      );
    }
  });

  test("confirm repeats none of verify's checks while the host is as verify found it, and all of them once it changed", async () => {
    const sandbox = await newSandbox();
    const s = await steps(sandbox);
    await apply(sandbox, s);
    const again = await runStep(sandbox, s[2]!);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /as the last check found them in agreement with the policy/);
    // The status it prints is the one UFW gives now.
    assert.ok(again.stdout.endsWith(sandbox.onServer("ufw status verbose")), again.stdout);

    // A rule removed from the kernel behind UFW's back (IPv6, so the deployer's way in stays).
    sandbox.onServer("ip6tables -D ufw6-user-input -p tcp --dport 22 -j ACCEPT");
    const kernel = await runStep(sandbox, s[2]!);
    assert.equal(kernel.code, 1, kernel.stdout);
    assert.doesNotMatch(kernel.stdout, /as the last check found them/);
    assert.match(
      kernel.stderr,
      /the kernel's rules differ from UFW's files:\n {2}missing from the kernel: ip6tables -A ufw6-user-input -p tcp -m tcp --dport 22 -j ACCEPT/,
    );
    await apply(sandbox, s);

    // Our IPv6 Docker block in after6.rules removed by hand: only a file changed, not the kernel.
    sandbox.onServer("sed -i '/^# BEGIN openclaw docker/,/^# END openclaw docker$/d' /etc/ufw/after6.rules");
    const file = await runStep(sandbox, s[2]!);
    assert.equal(file.code, 1, file.stdout);
    assert.match(file.stderr, /after6\.rules does not hold the declared openclaw-docker-user rules/);
    // Harden does not take the state for the one last checked either: it puts the block back.
    const { harden } = await apply(sandbox, s);
    assert.match(harden, /converged: 0 added, 0 removed/);

    // A rule added to UFW's files and the kernel by hand.
    sandbox.onServer("ufw allow 3306 >/dev/null");
    const rule = await runStep(sandbox, s[2]!);
    assert.equal(rule.code, 1, rule.stdout);
    assert.match(rule.stderr, /admits traffic the policy does not declare[\s\S]*ufw allow 3306/);
  });

  test("harden with nothing to do still reads sshd's settings: a drop-in changed by hand is put back", async () => {
    const sandbox = await newSandbox();
    const s = await steps(sandbox);
    await apply(sandbox, s);
    const dropIn = fs.readFileSync(sandbox.sshdDropIn, "utf8");
    assert.match(dropIn, /^PasswordAuthentication no$/m);
    // The state as the confirmed run left it: harden takes the path that checks only what no
    // fingerprint holds.
    const { harden } = await apply(sandbox, s);
    assert.equal(
      harden,
      "openclaw: no changes: the firewall is active and its 2 declared rules are in force\n",
    );

    // The drop-in edited by hand (not reloaded: only the file, which no fingerprint holds).
    fs.writeFileSync(
      sandbox.sshdDropIn,
      dropIn.replace(/^PasswordAuthentication no$/m, "PasswordAuthentication yes"),
    );
    const again = await runStep(sandbox, s[0]!);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /sshd: password logins off, root by key only/);
    assert.match(again.stdout, /converged: 0 added, 0 removed/);
    assert.equal(fs.readFileSync(sandbox.sshdDropIn, "utf8"), dropIn);
    // And confirmed, so the host keeps it.
    for (const step of s.slice(1)) {
      const r = await runStep(sandbox, step);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test("one ufw process for the whole batch leaves exactly what one ufw call per rule leaves", async () => {
    const sandbox = await newSandbox();
    const firewall = {
      ssh: { adminCidrs: ["198.51.100.0/24", "2001:db8:3::/64"] },
      services: [
        {
          name: "openclaw-api",
          ports: [8000, "9000-9010"],
          protocol: "tcp",
          sources: [
            "192.168.1.0/24",
            "2001:db8:1::/64",
            ...Array.from({ length: 30 }, (_, i) => `10.9.${i}.0/24`),
          ],
        },
        {
          name: "web",
          ports: [443],
          protocol: "tcp",
          sources: ["0.0.0.0/0", "::/0"],
          public: true,
          rateLimit: true,
        },
      ],
      logging: "high",
      ipv6: true,
    };
    // UFW alone: the Docker and sshd doors are not what this compares.
    await apply(
      sandbox,
      await steps(sandbox, { "openclaw:firewall": firewall }, { docker: false, sshd: false }),
    );
    const state = () => ({
      files: sandbox.onServer(
        "cat /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw",
      ),
      chains: userChains(sandbox),
    });
    const batched = state();

    sandbox.resetHost();
    const rules = renderUfwRules(parsePolicy(firewall).policy);
    assert.ok(rules.length > 60, `${rules.length} rules`);
    sandbox.onServer(
      [
        "ufw default deny incoming",
        "ufw default allow outgoing",
        ...rules,
        "ufw logging high",
        "ufw --force enable",
      ]
        .map((line) => `${line} >/dev/null`)
        .join("\n"),
    );
    assert.deepEqual(state(), batched);
  });
});
