// The rollback script runs as root at boot and when its timer fires. UFW's start hooks and the
// timers run it only while the state directory is root's alone: a script another user planted
// there, or a directory another user could have planted one in, is refused, and the firewall
// still comes up with the rules in its files. A root-owned script still rolls back.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { runStep } from "../support/host/deploy";
import { ONE_MORE_PORT, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The user a gateway runs as, as far as the host is concerned: anyone but root. */
const NOBODY = 65534;
/** The smallest window the options accept. */
const WINDOW = 30;

const owned = (sandbox: Sandbox) =>
  sandbox
    .onServer("ufw show added")
    .split("\n")
    .filter((l) => l.startsWith("ufw "));
const statePath = (sandbox: Sandbox, file: string) => path.join(sandbox.stateDir, file);

/** Replaces rollback.sh with a script of `uid`'s that leaves a marker when it runs; returns the marker. */
function plant(sandbox: Sandbox, uid: number): string {
  const marker = path.join(sandbox.dir, `planted-ran-${uid}`);
  const file = statePath(sandbox, "rollback.sh");
  fs.rmSync(file);
  fs.writeFileSync(file, `#!/bin/bash\ntouch '${marker}'\n`, { mode: 0o755 });
  fs.chownSync(file, uid, uid);
  return marker;
}

/** Kills the pending change's detached timer, as a reboot would; the sandbox's reboot() does the rest. */
function killTimer(sandbox: Sandbox): void {
  const pending = fs.readFileSync(statePath(sandbox, "pending"), "utf8");
  process.kill(-Number(/^handle=(\d+)$/m.exec(pending)![1]), "SIGKILL");
}

describe("the rollback runs only from a state directory that is root's alone", { skip }, () => {
  test("UFW's start hook: a planted rollback.sh, or a directory another user owns, is refused and UFW loads its rules; a root-owned one still rolls back", async () => {
    const sandbox = await newSandbox();
    // A window far longer than the test: only the boot-time hook can roll back.
    const hardening = { rollbackAfter: 3000, timeout: "1h" };
    await applyOk(sandbox, await homeSteps(sandbox, {}, hardening));
    const before = owned(sandbox);
    const harden = await runStep(sandbox, (await homeSteps(sandbox, ONE_MORE_PORT, hardening))[0]!);
    assert.equal(harden.code, 0, harden.stderr);
    const changed = owned(sandbox);
    assert.notDeepEqual(changed, before);
    const script = statePath(sandbox, "rollback.sh");
    const original = fs.readFileSync(script);
    killTimer(sandbox);

    // The gateway's user replaced the script (say the directory was theirs for a while).
    const marker = plant(sandbox, NOBODY);
    let boot = sandbox.reboot();
    assert.ok(!fs.existsSync(marker), "root ran the planted rollback.sh");
    assert.match(
      boot,
      new RegExp(
        `openclaw: FAILED: refusing to run ${sandbox.stateDir}/rollback\\.sh as root: ${sandbox.stateDir}/rollback\\.sh \\(uid ${NOBODY}, mode 755\\) is not root's alone`,
      ),
    );
    // Failing safe: UFW came up with the rules in its files, and the change is still pending.
    assert.match(sandbox.onServer("ufw status"), /Status: active/);
    assert.deepEqual(owned(sandbox), changed);
    assert.ok(fs.existsSync(statePath(sandbox, "pending")));

    // The script is root's again, but the directory is another user's, who could swap it: refused.
    fs.rmSync(script);
    fs.writeFileSync(script, original, { mode: 0o700 });
    fs.chownSync(sandbox.stateDir, NOBODY, NOBODY);
    boot = sandbox.reboot();
    assert.match(boot, new RegExp(`refusing to run .*: ${sandbox.stateDir} belongs to uid ${NOBODY}`));
    assert.deepEqual(owned(sandbox), changed);
    assert.ok(fs.existsSync(statePath(sandbox, "pending")));

    // Nor does a file that user leaves there stop UFW once it has started (after.init's stop-ufw).
    const stop = statePath(sandbox, "stop-ufw");
    fs.writeFileSync(stop, "");
    fs.chownSync(stop, NOBODY, NOBODY);
    boot = sandbox.reboot();
    assert.match(sandbox.onServer("ufw status"), /Status: active/, `UFW was stopped:\n${boot}`);
    assert.deepEqual(owned(sandbox), changed);
    fs.rmSync(stop);

    // Root's alone again: the same script rolls the change back at the next boot.
    fs.chownSync(sandbox.stateDir, 0, 0);
    boot = sandbox.reboot();
    assert.doesNotMatch(boot, /refusing/);
    assert.deepEqual(owned(sandbox), before);
    assert.ok(!fs.existsSync(statePath(sandbox, "pending")));
    assert.match(
      fs.readFileSync(statePath(sandbox, "rolled-back"), "utf8"),
      /reason=the host restarted before it was confirmed/,
    );
  });

  test("the timer: a root-owned rollback.sh rolls back when the window ends; a planted one is not run", async () => {
    const sandbox = await newSandbox();
    const hardening = { rollbackAfter: WINDOW, timeout: "3m" };
    await applyOk(sandbox, await homeSteps(sandbox, {}, hardening));
    const before = owned(sandbox);
    const change = (await homeSteps(sandbox, ONE_MORE_PORT, hardening))[0]!;
    const waitForTimer = () => new Promise((r) => setTimeout(r, (WINDOW + 10) * 1000));

    // Unconfirmed, untouched: the timer rolls it back.
    assert.equal((await runStep(sandbox, change)).code, 0);
    assert.notDeepEqual(owned(sandbox), before);
    await waitForTimer();
    assert.ok(!fs.existsSync(statePath(sandbox, "pending")), "the timer did not roll back");
    assert.deepEqual(owned(sandbox), before);

    // Again, and this time another user's script takes rollback.sh's place.
    assert.equal((await runStep(sandbox, change)).code, 0);
    const changed = owned(sandbox);
    const marker = plant(sandbox, NOBODY);
    await waitForTimer();
    assert.ok(!fs.existsSync(marker), "root ran the planted rollback.sh");
    assert.ok(fs.existsSync(statePath(sandbox, "pending")), "the change is still pending");
    assert.deepEqual(owned(sandbox), changed);
    // The next run refuses the directory too, naming the file, and changes nothing.
    const next = await runStep(sandbox, change);
    assert.equal(next.code, 1);
    assert.match(next.stderr, /rollback\.sh \(uid 65534, mode 755\) is not root's alone/);
    assert.ok(!fs.existsSync(marker));
  });
});
