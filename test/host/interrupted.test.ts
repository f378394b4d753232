// A harden step stopped in the middle of a change, by its SSH session ending (SIGPIPE at its next
// write, SIGHUP) or by a kill (SIGTERM): the rules from before are back at once, not when the
// timer fires, and the reason is in the log. The restore writes to the log, not to the dead
// session, so further SIGPIPEs while it runs do not stop it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { runStep } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** Windows far longer than the test: no timer can be what restores the rules. */
const HARDENING = { rollbackAfter: 3000, timeout: "1h" };
/** Many rules, so that the change takes a few seconds once it is armed. */
const BIG = {
  "openclaw:firewall": {
    ...HOME_FIREWALL,
    services: [
      {
        name: "openclaw-api",
        ports: [8000],
        protocol: "tcp",
        sources: Array.from({ length: 120 }, (_, i) => `10.9.${i}.0/24`),
      },
    ],
  },
};

const state = (sandbox: Sandbox, file: string) => {
  const p = path.join(sandbox.stateDir, file);
  return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
};
/** What the host enforces: UFW's rules as it reports them, and the kernel's chains. */
const enforced = (sandbox: Sandbox) => ({
  rules: sandbox.onServer("ufw show added"),
  kernel: sandbox.userChains(),
});

/** The processes in a namespace, by pid: their command line and their parent. */
function processes(ns: string): { pid: number; ppid: number; argv: string }[] {
  return spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" })
    .stdout.split(/\s+/)
    .filter(Boolean)
    .flatMap((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return [
          { pid: Number(pid), ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), argv },
        ];
      } catch {
        return []; // gone meanwhile
      }
    });
}
/** A process's start time (field 22 of its stat), so a pid reused meanwhile is told apart. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
/** The step's own shell on the server: `bash -s` whose parent is not one (its subshells are). */
function stepShell(sandbox: Sandbox): number {
  const shells = processes(sandbox.server.ns).filter((p) => p.argv === "/bin/bash -s");
  const top = shells.filter((p) => !shells.some((q) => q.pid === p.ppid));
  assert.equal(top.length, 1, JSON.stringify(shells));
  return top[0]!.pid;
}

/** Waits until the change is armed and under way (pending, not yet in force); returns its id. */
async function armed(sandbox: Sandbox): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pending = state(sandbox, "pending") ?? "";
    if (/^inforce=-$/m.test(pending)) return /^id=(\S+)$/m.exec(pending)![1]!;
    assert.ok(!/^inforce=\d+$/m.test(pending), "the change was in force before the test could stop it");
    assert.ok(Date.now() < deadline, "the change was never armed");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until the host has rolled back change `id`; returns how long after `since` it did. The
 * rollback's last line is the sign, not the rolled-back record: that is written before `pending`
 * goes, so a loaded machine shows both for a moment.
 */
async function restored(sandbox: Sandbox, id: string, since: number): Promise<number> {
  // Far inside HARDENING's window: a rollback done by then was the step's own, not the timer's
  // (the record's reason says which).
  const deadline = since + 5 * 60_000;
  const done = `rolled back change ${id}: the rules from before it are in force`;
  while (!(state(sandbox, "rollback.log") ?? "").includes(done)) {
    assert.ok(
      Date.now() < deadline,
      `change ${id} was not rolled back; log:\n${state(sandbox, "rollback.log")}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - since;
}

describe("a harden step stopped in the middle of a change", { skip }, () => {
  for (const signal of ["SIGHUP", "SIGTERM", "SIGPIPE"] as const) {
    test(`${signal}: the rules from before are back at once, the reason in the log`, async (t) => {
      const sandbox = await newSandbox();
      await applyOk(sandbox, await homeSteps(sandbox, {}, HARDENING));
      const before = enforced(sandbox);
      const step = runStep(sandbox, (await homeSteps(sandbox, BIG, HARDENING))[0]!);
      const id = await armed(sandbox);
      await new Promise((r) => setTimeout(r, 300));
      const sent = Date.now();
      process.kill(stepShell(sandbox), signal);

      const took = await restored(sandbox, id, sent);
      t.diagnostic(`restored ${took} ms after ${signal}`);
      const result = await step;
      assert.notEqual(result.code, 0, "the stopped step reported success");
      assert.equal(state(sandbox, "pending"), undefined);
      assert.deepEqual(enforced(sandbox), before);
      assert.match(
        state(sandbox, "rolled-back")!,
        new RegExp(`^reason=the converge step got ${signal}`, "m"),
      );
      assert.match(
        state(sandbox, "rollback.log")!,
        new RegExp(`rolling back change ${id}: the converge step got ${signal}`),
      );
      assert.match(
        state(sandbox, "rollback.log")!,
        new RegExp(`rolled back change ${id}: the rules from before it are in force`),
      );
    });
  }

  test("the SSH session drops: restored at once, and SIGPIPEs during the restore do not stop it", async (t) => {
    const sandbox = await newSandbox();
    await applyOk(sandbox, await homeSteps(sandbox, {}, HARDENING));
    const before = enforced(sandbox);
    const step = runStep(sandbox, (await homeSteps(sandbox, BIG, HARDENING))[0]!);
    const id = await armed(sandbox);
    const shell = stepShell(sandbox);
    // The deployer's end goes away (a laptop closed, CI killed): sshd closes the session's pipes.
    const clients = processes(sandbox.admin.ns).filter((p) => p.argv.startsWith("ssh "));
    assert.equal(clients.length, 1, JSON.stringify(clients));
    const dropped = Date.now();
    process.kill(clients[0]!.pid, "SIGKILL");
    await step;
    // And the step's shell gets SIGPIPE after SIGPIPE while it restores, for as long as it runs.
    const started = startTime(shell);
    const storm = setInterval(() => {
      if (started !== undefined && startTime(shell) === started) process.kill(shell, "SIGPIPE");
      else clearInterval(storm);
    }, 10);
    try {
      const took = await restored(sandbox, id, dropped);
      t.diagnostic(`restored ${took} ms after the session dropped`);
    } finally {
      clearInterval(storm);
    }
    assert.equal(state(sandbox, "pending"), undefined);
    assert.deepEqual(enforced(sandbox), before);
    assert.match(state(sandbox, "rolled-back")!, /^reason=the converge step got SIG(PIPE|HUP)/m);
  });
});
