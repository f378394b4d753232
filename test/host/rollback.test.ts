// The host's safety net on a sandbox host: a change rolled back before it was confirmed, then
// `pulumi up` again with the same config (Pulumi's own choice of what to re-run played by
// PulumiState); the window counted from the change in force; a reboot inside the window.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { runStep } from "../support/host/deploy";
import { PulumiState } from "../support/host/pulumiState";
import {
  HOME_FIREWALL,
  applyOk,
  deployerSsh,
  homeSteps,
  hostSuiteSkip,
  sandboxPool,
} from "../support/host/hostTest";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The smallest window the options accept. */
const WINDOW = 30;
/** SSH only from the untrusted network: the deployer (198.51.100.10) is shut out. */
const LOCKED = { "openclaw:firewall": { ...HOME_FIREWALL, ssh: { adminCidrs: ["203.0.113.0/24"] } } };

const owned = (sandbox: Sandbox) =>
  sandbox
    .onServer("ufw show added")
    .split("\n")
    .filter((l) => l.startsWith("ufw "));
const state = (sandbox: Sandbox, file: string) => {
  const p = path.join(sandbox.stateDir, file);
  return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
};

/** Waits until the host has rolled back, and returns when it did (ms since the epoch). */
async function rolledBack(sandbox: Sandbox, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (state(sandbox, "pending") !== undefined) {
    assert.ok(Date.now() < deadline, "the host did not roll back");
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now();
}

/** Waits until the host's timer fires (the rollback's first line), and returns when it did. */
async function timerFired(sandbox: Sandbox, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!/rolling back change/.test(state(sandbox, "rollback.log") ?? "")) {
    assert.ok(Date.now() < deadline, "the timer did not fire");
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now();
}

/** Plays a reboot: every process dies (the rollback timer with them), then the firewall starts. */
function reboot(sandbox: Sandbox): void {
  const pending = state(sandbox, "pending")!;
  const pid = Number(/^handle=(\d+)$/m.exec(pending)![1]);
  // The timer is the hardening's own process in this sandbox: its whole session goes.
  process.kill(-pid, "SIGKILL");
  sandbox.reboot();
}

/** Whether the deployer can open a new SSH connection: dials retried for `seconds`. */
async function deployerGetsIn(sandbox: Sandbox, key: string, seconds = 30): Promise<boolean> {
  const r = await sandbox.ssh(
    { host: sandbox.server.v4, port: 22, user: "root", privateKey: key },
    "true",
    "",
    { timeoutMs: seconds * 1000, perDialSeconds: 5 },
  );
  return r.code === 0;
}

describe("the rollback on a sandbox host", { skip }, () => {
  test("interrupted after harden: the host rolls back, and the next pulumi up with the same config applies and confirms it", async () => {
    const sandbox = await newSandbox();
    const pulumi = new PulumiState();
    const steps = await homeSteps(sandbox, {}, { rollbackAfter: WINDOW });

    // Ctrl-C once harden has succeeded: Pulumi has saved harden's inputs; nothing confirms.
    const first = await pulumi.up(sandbox, steps, { interruptAfter: "openclaw-harden" });
    assert.deepEqual(first.ran, ["openclaw-harden"]);
    assert.match(sandbox.onServer("ufw status"), /Status: active/);
    await rolledBack(sandbox, (WINDOW + 60) * 1000);
    assert.match(sandbox.onServer("ufw status"), /Status: inactive/, "a fresh host goes back to UFW off");
    assert.match(state(sandbox, "rolled-back")!, /reason=no new SSH connection confirmed it within 30s/);

    // The same config again: harden has no diff and does not run; verify applies the policy
    // again, and confirm, on a newer connection, confirms it.
    const second = await pulumi.up(sandbox, steps);
    const out = (name: string) => second.results.get(name)!;
    assert.equal(second.failed, undefined, JSON.stringify([...second.results.values()]));
    assert.deepEqual(second.ran, ["openclaw-verify", "openclaw-confirm"]);
    assert.match(
      out("openclaw-verify").stdout,
      /the host rolled back change \S+ at \S+ \(no new SSH connection confirmed it within 30s of it being in force\); the rules from before it are in force; this connection's address is admitted by the policy: applying it again\n/,
    );
    assert.match(
      out("openclaw-verify").stdout,
      /applied again as change (\S+); the confirm step confirms it from a new SSH connection/,
    );
    assert.doesNotMatch(out("openclaw-verify").stdout, /rollback disarmed/);
    assert.match(
      out("openclaw-confirm").stdout,
      /confirmed change \S+ from a new SSH connection: rollback disarmed/,
    );
    assert.equal(state(sandbox, "pending"), undefined, "nothing left to roll back");
    assert.deepEqual(owned(sandbox), [
      "ufw allow 22/tcp comment 'openclaw:ssh'",
      "ufw allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api'",
    ]);

    // A third run has nothing to do.
    const third = await pulumi.up(sandbox, steps);
    assert.deepEqual(third.ran, []);
  });

  test("lockout from a fresh host: the window counts from the change in force; the next run fails at once, blaming adminCidrs, and shuts no one out", async (t) => {
    const sandbox = await newSandbox();
    const pulumi = new PulumiState();
    const key = fs.readFileSync(sandbox.clientKey, "utf8");
    // Many rules, so that the change itself takes a while after the rollback is armed.
    const firewall = {
      ...LOCKED["openclaw:firewall"],
      services: [
        {
          name: "openclaw-api",
          ports: [8000],
          protocol: "tcp",
          sources: Array.from({ length: 150 }, (_, i) => `10.9.${i}.0/24`),
        },
      ],
    };
    const steps = await homeSteps(
      sandbox,
      { "openclaw:firewall": firewall },
      { rollbackAfter: WINDOW, perDialTimeout: 2, timeout: "3m" },
    );

    const started = Date.now();
    const harden = await runStep(sandbox, steps[0]!);
    const inForce = Date.now();
    assert.equal(harden.code, 0, harden.stderr);
    t.diagnostic(`harden on a fresh host took ${inForce - started} ms`);
    assert.match(harden.stdout, /change \S+ is in force; unless a new SSH connection confirms it within 30s/);
    assert.equal(await deployerSsh(sandbox), "blocked", "the policy shuts the deployer out");

    // The clock started when the change was in force, at the end of harden, not when it was armed.
    const fired = await timerFired(sandbox, (WINDOW + 60) * 1000);
    t.diagnostic(`the timer fired ${fired - inForce} ms after harden ended`);
    assert.ok(
      fired - inForce >= WINDOW * 1000 - 500,
      `the timer fired ${fired - inForce} ms after harden ended`,
    );
    await rolledBack(sandbox, 60_000);
    assert.equal(await deployerGetsIn(sandbox, key), true);

    // pulumi up, as Pulumi runs it: harden is saved; verify gets in after the rollback and fails.
    await pulumi.up(sandbox, steps.slice(0, 1));
    const blame =
      /FAILED: the host rolled back change \S+ at \S+ \(no new SSH connection confirmed it within 30s of it being in force\); the rules from before it are in force\. The policy does not admit 198\.51\.100\.10, the address this SSH connection comes from, to port 22: if you deploy from there, add it to firewall\.ssh\.adminCidrs and run pulumi up again\./;
    const first = await pulumi.up(sandbox, steps);
    assert.deepEqual([first.ran, first.failed], [["openclaw-verify"], "openclaw-verify"]);
    assert.match(first.results.get("openclaw-verify")!.stderr, blame);

    // The same config again: verify fails at once with the same cause, and applies nothing.
    const again = Date.now();
    const second = await pulumi.up(sandbox, steps);
    assert.deepEqual([second.ran, second.failed], [["openclaw-verify"], "openclaw-verify"]);
    assert.match(second.results.get("openclaw-verify")!.stderr, blame);
    assert.ok(Date.now() - again < WINDOW * 1000, "failed without waiting for a window");
    assert.equal(state(sandbox, "pending"), undefined);
    assert.match(sandbox.onServer("ufw status"), /Status: inactive/);
    assert.equal(await deployerGetsIn(sandbox, key), true);
  });

  test("a reboot inside the window: UFW's boot-time start restores the rules from before the unconfirmed change", async () => {
    const sandbox = await newSandbox();
    const key = fs.readFileSync(sandbox.clientKey, "utf8");
    // A window far longer than the test: only the boot guard can restore the rules.
    const hardening = { rollbackAfter: 3000, timeout: "1h" };
    await applyOk(sandbox, await homeSteps(sandbox, {}, hardening));
    const before = owned(sandbox);
    const pulumi = new PulumiState();
    const locked = await homeSteps(sandbox, LOCKED, hardening);

    const first = await pulumi.up(sandbox, locked, { interruptAfter: "openclaw-harden" });
    assert.deepEqual(first.ran, ["openclaw-harden"]);
    assert.equal(await deployerSsh(sandbox), "blocked", "the policy shuts the deployer out");
    // The kernel's rules survive in place of a reboot here; a reboot loads UFW's files.
    reboot(sandbox);
    assert.equal(
      await deployerGetsIn(sandbox, key),
      true,
      `locked out after the reboot: ${state(sandbox, "rollback.log")}`,
    );
    assert.deepEqual(owned(sandbox), before);
    assert.equal(state(sandbox, "pending"), undefined);
    assert.match(state(sandbox, "rolled-back")!, /reason=the host restarted before it was confirmed/);
    assert.match(sandbox.onServer("ufw status"), /Status: active/);

    // The next pulumi up with this config: verify reports why, and applies nothing.
    const second = await pulumi.up(sandbox, locked);
    assert.equal(second.failed, "openclaw-verify");
    assert.match(
      second.results.get("openclaw-verify")!.stderr,
      /\(the host restarted before it was confirmed\).*The policy does not admit 198\.51\.100\.10/,
    );

    // A reboot with nothing pending changes nothing; a change that admits the deployer then
    // applies and confirms as usual.
    sandbox.reboot();
    assert.deepEqual(owned(sandbox), before);
    const fixed = await pulumi.up(sandbox, await homeSteps(sandbox, {}, hardening));
    assert.equal(fixed.failed, undefined);
  });

  test("a reboot inside the window of a first run: UFW is off again after the boot, as it was before", async () => {
    const sandbox = await newSandbox();
    const key = fs.readFileSync(sandbox.clientKey, "utf8");
    const pulumi = new PulumiState();
    const steps = await homeSteps(sandbox, LOCKED, { rollbackAfter: 3000, timeout: "1h" });
    await pulumi.up(sandbox, steps, { interruptAfter: "openclaw-harden" });
    assert.equal(await deployerSsh(sandbox), "blocked", "the policy shuts the deployer out");
    reboot(sandbox);
    assert.equal(await deployerGetsIn(sandbox, key), true, "locked out after the reboot");
    assert.match(sandbox.onServer("ufw status"), /Status: inactive/);
    assert.equal(sandbox.onServer("iptables -S | grep -c ufw-user-input || true").trim(), "0");
    assert.equal(state(sandbox, "stop-ufw"), undefined);
  });

  test("a connection opened before the change was in force cannot confirm it", async () => {
    const sandbox = await newSandbox();
    await applyOk(sandbox, await homeSteps(sandbox));
    const steps = await homeSteps(sandbox, {
      "openclaw:firewall": {
        ...HOME_FIREWALL,
        services: [{ name: "openclaw-api", ports: [9000], protocol: "tcp", sources: ["192.168.1.0/24"] }],
      },
    });
    // A session connected before harden runs; its verify starts once harden has armed, and gets
    // the lock once harden is done: the change is in force, but this connection predates it.
    const verify = steps[1]!;
    const pending = path.join(sandbox.stateDir, "pending");
    const stale = sandbox.ssh(
      verify.connection,
      `while [ ! -f '${pending}' ]; do sleep 0.1; done; ${verify.command}`,
      verify.stdin,
      { timeoutMs: 30_000, perDialSeconds: 5 },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const harden = await runStep(sandbox, steps[0]!);
    assert.equal(harden.code, 0, harden.stderr);
    const early = await stale;
    assert.equal(early.code, 1, early.stdout);
    assert.match(
      early.stderr,
      /FAILED: this SSH connection was opened before change \S+ was in force, so it cannot confirm it/,
    );
    assert.notEqual(state(sandbox, "pending"), undefined, "the change is still waiting for a confirmation");
    // A connection made now confirms it.
    const late = await runStep(sandbox, verify);
    assert.equal(late.code, 0, late.stderr);
    assert.match(late.stdout, /confirmed change \S+ from a new SSH connection: rollback disarmed/);
  });
});
