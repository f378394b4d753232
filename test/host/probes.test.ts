// The probers' verdicts do not depend on the machine's speed (test/support/host/verdicts.ts). A
// listener stopped for a moment (SIGSTOP), as a loaded machine may leave it, makes a round void
// or a UDP answer late; neither becomes a verdict, and a wrong rule on the host is still caught.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type Peer, type Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";
import type { Target } from "../support/host/netprobe";
import { type Round, decide } from "../support/host/verdicts";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** The home stack, plus a UDP service for the LAN, so a UDP answer is expected too. */
const FIREWALL = {
  ...HOME_FIREWALL,
  services: [
    ...HOME_FIREWALL.services,
    { name: "metrics", ports: [9000], protocol: "udp", sources: ["192.168.1.0/24"] },
  ],
};

/** The pid of the sandbox's listener (netprobe listen) in a namespace. */
function listenerPid(ns: string): number {
  const nsInode = fs.statSync(`/run/netns/${ns}`).ino;
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.statSync(`/proc/${pid}/ns/net`).ino !== nsInode) continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a.endsWith("netprobe.ts")) && argv.includes("listen")) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no listener in ${ns}`);
}

/**
 * A prober whose first round runs with `pid` stopped: the process is continued as soon as that
 * round is over, so only the first round sees it stopped.
 */
function stoppedForFirstRound(sandbox: Sandbox, from: Peer, pid: number): { round: Round; rounds: number[] } {
  const inner = sandbox.prober(from);
  const waits: number[] = [];
  process.kill(pid, "SIGSTOP");
  return {
    rounds: waits,
    round: async (targets, waitMs) => {
      try {
        return await inner(targets, waitMs);
      } finally {
        waits.push(waitMs);
        if (waits.length === 1) process.kill(pid, "SIGCONT");
      }
    },
  };
}

describe("verdicts under a stalled listener", { skip }, () => {
  test("the controls' listener stopped: the round is void, not failed, and a wrong rule is still caught", async () => {
    const sandbox = await newSandbox();
    await applyOk(sandbox, await homeSteps(sandbox, { "openclaw:firewall": FIREWALL }));
    const { trusted, untrusted, server } = sandbox;
    const fromLan: Target[] = [
      { host: server.v4, port: 8000 },
      { host: server.v4, port: 3306 },
      { host: server.v4, port: 9000, protocol: "udp" },
    ];
    const router = listenerPid(sandbox.router);

    // As declared: the void round is repeated, and every verdict is the policy's.
    const asDeclared = stoppedForFirstRound(sandbox, trusted, router);
    const first = await decide(fromLan, asDeclared.round);
    assert.ok(first.voided >= 1, `the stopped listener voided the first round: ${JSON.stringify(first)}`);
    assert.deepEqual(first.verdicts, ["open", "blocked", "open"]);
    assert.ok(asDeclared.rounds[1]! > asDeclared.rounds[0]!, "the round after a void one waits longer");

    // Two wrong rules on the host, made behind the hardening's back: the LAN's 8000 removed,
    // 3306 opened to everyone. The same stall again, and both are caught.
    sandbox.onServer(
      "ufw delete allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api' >/dev/null && " +
        "ufw allow 3306/tcp >/dev/null",
    );
    const wrong = stoppedForFirstRound(sandbox, trusted, router);
    const caught = await decide(fromLan, wrong.round);
    assert.ok(caught.voided >= 1, JSON.stringify(caught));
    assert.deepEqual(caught.verdicts, ["blocked", "open", "open"]);
    assert.deepEqual(await sandbox.probe(untrusted, [{ host: server.v4, port: 3306 }]), ["open"]);
  });

  test("the far UDP listener stopped: its silence is confirmed by a longer round before it counts", async () => {
    const sandbox = await newSandbox();
    await applyOk(sandbox, await homeSteps(sandbox, { "openclaw:firewall": FIREWALL }));
    const target: Target = { host: sandbox.server.v4, port: 9000, protocol: "udp" };
    const far = stoppedForFirstRound(sandbox, sandbox.trusted, listenerPid(sandbox.server.ns));
    const late = await decide([target], far.round);
    // The first round's controls answered (the router's listener ran): not void, but its
    // silence was not enough; the confirming round heard the echo.
    assert.deepEqual([late.verdicts, late.voided, late.rounds], [["open"], 0, 2]);
    // And a UDP port the policy does not admit is blocked after the same two rounds.
    const blocked = await sandbox.probeDecision(sandbox.untrusted, [target]);
    assert.deepEqual([blocked.verdicts, blocked.rounds], [["blocked"], 2]);
  });
});
