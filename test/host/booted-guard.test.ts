// On a booted Debian host, as the image's non-root sudo user: the systemd timer and the boot
// guard's unit (at a real reboot) refuse a rollback.sh another user planted, and UFW still comes
// up with the rules in its files; a root-owned one still rolls back. And root's Python never
// imports modules from the SSH user's home, which is the steps' working directory.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootedUnavailable } from "../support/host/bootedHost";
import { applySteps, runStep } from "../support/host/deploy";
import { ONE_MORE_PORT, applyOk, hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();

const STATE = "/var/lib/openclaw";
/** Where a planted script leaves its mark, were root to run it. */
const MARKER = "/root/planted-ran";

describe(
  "on a booted Debian host: the rollback runs only from a state directory that is root's alone",
  { skip },
  () => {
    test("the systemd timer and, at a real reboot, the boot guard refuse a planted rollback.sh; UFW comes up with its rules; a root-owned one rolls back", async () => {
      const host = await newHost();
      const hardening = { rollbackAfter: 30, perDialTimeout: 2, timeout: "2m" };
      await applyOk(host, await host.steps({}, hardening));
      const before = host.userChains();
      const harden = await runStep(host, (await host.steps(ONE_MORE_PORT, hardening))[0]!);
      assert.equal(harden.code, 0, harden.stderr);
      const changed = host.userChains();
      assert.notEqual(changed, before);
      const id = /^id=(\S+)$/m.exec(host.onServer(`cat ${STATE}/pending`))![1]!;

      // The gateway's user (nobody will do) puts its own script in rollback.sh's place.
      const original = host.onServer(`cat ${STATE}/rollback.sh`);
      host.onServer(
        `rm ${STATE}/rollback.sh && cat >${STATE}/rollback.sh && chown nobody:nogroup ${STATE}/rollback.sh && chmod 755 ${STATE}/rollback.sh`,
        `#!/bin/bash\ntouch ${MARKER}\n`,
      );

      // The timer fires: its unit refuses, says why in the journal, and the change stays.
      const unit = `openclaw-rollback-${id}.service`;
      const deadline = Date.now() + 90_000;
      const timerDone = () =>
        /^(inactive|failed)\n(inactive|failed)\n$/.test(
          host.onServer(`systemctl is-active ${unit.replace(".service", ".timer")} ${unit} || true`),
        );
      while (!timerDone()) {
        assert.ok(Date.now() < deadline, `the timer did not fire: ${host.journal(`-u ${unit} -o cat`)}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.equal(
        host.onServer(`test -e ${MARKER} && echo ran || echo no`).trim(),
        "no",
        "root ran the planted script",
      );
      assert.match(
        host.journal("-t openclaw -o cat"),
        new RegExp(
          `^refusing to run ${STATE}/rollback\\.sh as root: ${STATE}/rollback\\.sh \\(uid 65534, mode 755\\) is not root's alone`,
          "m",
        ),
      );
      assert.match(host.onServer(`systemctl is-failed ${unit} || true`), /^failed$/m);
      assert.equal(host.userChains(), changed);

      // A reboot: the guard's unit refuses, ufw.service starts all the same and loads its files.
      host.onServer("systemctl reboot");
      assert.equal(await host.rebooted(60_000), 133);
      assert.equal(host.onServer(`test -e ${MARKER} && echo ran || echo no`).trim(), "no");
      assert.match(host.onServer("systemctl is-failed openclaw-boot-guard.service || true"), /^failed$/m);
      assert.match(
        host.journal("-b -u openclaw-boot-guard.service -o cat"),
        /refusing to run \/var\/lib\/openclaw\/rollback\.sh as root: .* is not root's alone/,
      );
      assert.equal(host.onServer("systemctl is-active ufw.service").trim(), "active");
      assert.equal(host.userChains(), changed, "UFW loaded the rules in its files");
      assert.equal(host.onServer(`test -e ${STATE}/pending && echo yes`).trim(), "yes");

      // The script is root's again: the next boot rolls the change back.
      host.onServer(
        `rm ${STATE}/rollback.sh && cat >${STATE}/rollback.sh && chmod 700 ${STATE}/rollback.sh`,
        original,
      );
      host.onServer("systemctl reboot");
      assert.equal(await host.rebooted(60_000), 133);
      assert.equal(host.userChains(), before, "the rules from before the change are in force");
      assert.match(host.onServer("systemctl is-active openclaw-boot-guard.service || true"), /^inactive$/m);
      assert.match(
        host.journal("-b -t openclaw -o cat"),
        new RegExp(`^rolled back change ${id}: the host restarted`, "m"),
      );
      assert.equal(host.onServer(`test -e ${MARKER} && echo ran || echo no`).trim(), "no");
    });

    test("Python modules in the SSH user's home (its working directory) are not imported by root", async () => {
      const host = await newHost();
      // What the user, or anyone who can write to their home, leaves there: a shlex.py and a ufw
      // package, each of which would leave a mark as root if Python imported it.
      const home = `/home/${host.user}`;
      host.onServer(
        [
          `mkdir -p ${home}/ufw`,
          `printf 'open("/root/imported-shlex", "w")\\n' >${home}/shlex.py`,
          `printf 'open("/root/imported-ufw", "w")\\n' >${home}/ufw/__init__.py`,
          `chown -R ${host.user}: ${home}/shlex.py ${home}/ufw`,
        ].join(" && "),
      );
      const results = await applySteps(host, await host.steps());
      assert.equal(host.onServer("ls /root/imported-shlex /root/imported-ufw 2>/dev/null || true"), "");
      for (const r of results) assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(results.length, 3);
      assert.match(results[0]!.stdout, /adding: allow 22\/tcp/, "the batch ran in ufw's Python");
    });
  },
);
