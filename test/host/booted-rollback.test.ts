// The host-side rollback on a booted Debian host: the systemd-run timer every cloud VM uses,
// seen in `systemctl list-timers` and in the journal.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootedUnavailable } from "../support/host/bootedHost";
import { runStep } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, deployerSsh, hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();

/** SSH only from the untrusted network: the deployer (198.51.100.10) is no longer admitted. */
const LOCKOUT = { "openclaw:firewall": { ...HOME_FIREWALL, ssh: { adminCidrs: ["203.0.113.0/24"] } } };

describe("rollback on a booted Debian host (systemd-nspawn)", { skip }, () => {
  test("proof 2: a lockout is rolled back by the systemd timer, and SSH comes back", async () => {
    const host = await newHost();
    // The window is long beside the steps around it, so verify surely starts dialling inside it
    // however slow the machine is.
    const hardening = { rollbackAfter: 60, perDialTimeout: 2, timeout: "3m" };
    await applyOk(host, await host.steps({}, hardening));
    const before = host.userChains();

    const locked = await host.steps(LOCKOUT, hardening);
    const harden = await runStep(host, locked[0]!);
    assert.equal(harden.code, 0, harden.stderr);
    assert.match(harden.stdout, /within 60s, the host restores .*\(systemd timer\)$/m);
    // The pending change's timer is systemd's, waiting on the host (looked at, not touched).
    const pending = host.onServer("cat /var/lib/openclaw/pending");
    const id = /^id=(\S+)$/m.exec(pending)?.[1];
    assert.ok(id, pending);
    assert.match(pending, /^how=systemd$/m);
    assert.match(pending, new RegExp(`^handle=openclaw-rollback-${id}$`, "m"));
    const timer = `openclaw-rollback-${id}.timer`;
    assert.match(
      host.onServer("systemctl list-timers --all --no-legend"),
      new RegExp(timer.replace(".", "\\.")),
    );

    // Verify is kept out until the host rolls the change back by itself, then reports it.
    // The host records whole seconds: rounded up, a rollback in the same second as the first
    // dial does not count as after it.
    const dialling = Math.ceil(Date.now() / 1000) * 1000;
    const verify = await runStep(host, locked[1]!, 180_000);
    assert.equal(verify.code, 1, verify.stderr);
    const rolled = new RegExp(
      `FAILED: the host rolled back change ${id} at (\\S+) \\(no new SSH connection confirmed it within 60s`,
    ).exec(verify.stderr);
    assert.ok(rolled, verify.stderr);
    assert.ok(verify.dials > 1, "the first dials were refused by the new policy");
    assert.ok(
      Date.parse(rolled[1]!) >= dialling,
      `the rollback (${rolled[1]}) came after verify began dialling (${new Date(dialling).toISOString()})`,
    );

    // The journal shows systemd ran the rollback unit, and what it did. The unit ends, and its
    // transient timer goes, once the script has exited: a moment after verify read its record.
    const unit = `openclaw-rollback-${id}.service`;
    assert.match(await host.unitSettled(unit), /^(inactive|failed)$/);
    assert.equal(await host.unitSettled(timer), "inactive");
    assert.match(host.journal(`-u ${unit} -o cat`), new RegExp(unit.replace(".", "\\.")));
    assert.match(
      host.journal("-t openclaw -o cat"),
      new RegExp(`^rolled back change ${id}: no new SSH connection`, "m"),
    );
    assert.doesNotMatch(host.onServer("systemctl list-timers --all --no-legend"), /openclaw-rollback-/);

    // SSH works again, and the kernel holds exactly the rules from before.
    const again = await host.ssh(locked[0]!.connection, "true", "", { timeoutMs: 30_000, perDialSeconds: 5 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(host.userChains(), before);
  });

  test("proof 4: a reboot inside the rollback window after a lockout does not leave the host locked out", async () => {
    const host = await newHost();
    // A window far longer than the reboot: only a boot-time guard can end the lockout in time.
    const hardening = { rollbackAfter: 300, perDialTimeout: 2, timeout: "10m" };
    await applyOk(host, await host.steps({}, hardening));
    const before = host.userChains();

    const locked = await host.steps(LOCKOUT, hardening);
    const harden = await runStep(host, locked[0]!);
    assert.equal(harden.code, 0, harden.stderr);
    assert.match(harden.stdout, /within 300s, the host restores .*\(systemd timer\)$/m);
    assert.equal(await deployerSsh(host), "blocked", "the new policy shuts the deployer out");

    // A reboot inside the window (a kernel update, the provider's console): systemd-run's
    // transient timer does not survive it, and ufw.service loads the rules on disk at boot.
    host.onServer("systemctl reboot");
    assert.equal(await host.rebooted(60_000, { ssh: false }), 133);
    const booted = Date.now();
    try {
      await host.waitForSsh(30_000);
    } catch (e) {
      assert.fail(
        `locked out after the reboot, ${Date.now() - booted} ms after boot (${String(e)}); the kernel's rules:\n` +
          host.userChains(),
      );
    }
    assert.equal(host.userChains(), before, "the rules from before the change are in force");
    // The systemd unit did it, and before ufw.service read its files (UFW's own start hook is the
    // fallback for hosts without systemd, and finds nothing pending after it).
    const boot = host.journal("-b -o cat -u openclaw-boot-guard.service -u ufw.service");
    const guardDone = boot.indexOf("Finished openclaw-boot-guard.service");
    const ufwStarts = boot.indexOf("Starting ufw.service");
    assert.ok(guardDone >= 0 && ufwStarts > guardDone, `the guard ran before ufw.service:\n${boot}`);
    // The deployer's next verify hears that the change was rolled back.
    const verify = await runStep(host, locked[1]!, 60_000);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /rolled back change/);
  });
});
