// `npm run blocks` against the sandbox: blocked traffic generated from its peers, read back
// over SSH from the server's UFW log and then from its journal, and checked against the
// firewall's own counters.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Peer, type Sandbox, logCaptureUnavailable, sandboxUnavailable } from "../support/host/sandbox";
import { HOME_FIREWALL, applyOk, homeSteps, hostSuiteSkip, sandboxPool } from "../support/host/hostTest";
import type { BlockGroup } from "../../components/blocks/report";

const skip = hostSuiteSkip(sandboxUnavailable() ?? logCaptureUnavailable());
const newSandbox = sandboxPool();
const ROOT = path.join(__dirname, "..", "..");

/** The home stack plus a public, rate-limited webhook port, so `ufw limit` has work to do. */
const FIREWALL = {
  ...HOME_FIREWALL,
  services: [
    ...HOME_FIREWALL.services,
    {
      name: "webhook",
      ports: [9001],
      protocol: "tcp",
      sources: ["0.0.0.0/0", "::/0"],
      public: true,
      rateLimit: true,
    },
  ],
};

interface Report {
  sources: string[];
  logging: string;
  packets: number;
  attempts: number;
  groups: (BlockGroup & { port: number | null })[];
}

/** Runs `npm run blocks` as an operator on the admin network would, with the sandbox's key. */
async function blocks(
  sandbox: Sandbox,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return sandbox.exec(sandbox.admin.ns, [
    ...[process.execPath, "--import", "tsx", path.join(ROOT, "bin", "blocks.ts"), "--stack", "home"],
    ...["--user", "root", "-i", sandbox.clientKey],
    ...["-o", `UserKnownHostsFile=${path.join(sandbox.dir, "known_hosts")}`, "-o", "BatchMode=yes"],
    ...args,
  ]);
}

async function jsonReport(sandbox: Sandbox, ...args: string[]): Promise<Report> {
  const r = await blocks(sandbox, "--json", ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

/** Packets and attempts per "rule source port" across hours: a run may straddle an hour. */
function byFlow(report: Report): Record<string, { packets: number; attempts: number }> {
  const flows: Record<string, { packets: number; attempts: number }> = {};
  for (const g of report.groups) {
    const key = `${g.rule} ${g.direction} ${g.source} ${g.port ?? g.protocol}`;
    const f = (flows[key] ??= { packets: 0, attempts: 0 });
    f.packets += g.packets;
    f.attempts += g.attempts;
  }
  return flows;
}

/**
 * Connection attempts from a peer to the server's address on one port, all at once, with their
 * verdicts and what the peer sent: connection attempts (repeated when a probe round was void)
 * and SYNs, retransmissions included, counted in the peer's own OUTPUT chain.
 */
async function attempt(sandbox: Sandbox, from: Peer, family: "v4" | "v6", port: number, times: number) {
  const bin = family === "v4" ? "iptables" : "ip6tables";
  const rule = `OUTPUT -p tcp --syn -d ${sandbox.server[family]} --dport ${port}`;
  sandbox.inNs(from.ns, `${bin} -A ${rule}`);
  const decision = await sandbox.probeDecision(
    from,
    Array.from({ length: times }, () => ({ host: sandbox.server[family], port })),
  );
  const packets = Number(
    /^-A OUTPUT .* -c (\d+) \d+$/m.exec(sandbox.inNs(from.ns, `${bin} -S OUTPUT -v`))![1],
  );
  sandbox.inNs(from.ns, `${bin} -D ${rule}`);
  return {
    verdicts: decision.verdicts,
    packets,
    attempts: decision.attempts.reduce((a, b) => a + b, 0),
  };
}

/** A flow the firewall must block: its verdicts, then what the report must count for it. */
async function blockedFlow(sandbox: Sandbox, from: Peer, family: "v4" | "v6", port: number, times: number) {
  const { verdicts, packets, attempts } = await attempt(sandbox, from, family, port, times);
  assert.deepEqual(verdicts, Array(times).fill("blocked"), `${from.ns} to ${family} port ${port}`);
  return { packets, attempts };
}

/** The server's packet counter on the filter lines `pattern` captures, IPv4 and IPv6 summed. */
function counted(sandbox: Sandbox, pattern: RegExp): number {
  return sandbox
    .onServer("iptables-save -c -t filter; ip6tables-save -c -t filter")
    .split("\n")
    .map((l) => pattern.exec(l)?.[1])
    .reduce((n, v) => n + Number(v ?? 0), 0);
}
/** Packets INPUT's default policy dropped: what UFW blocked without a rule. */
const policyDrops = (sandbox: Sandbox) => counted(sandbox, /^:INPUT DROP \[(\d+):/);
/** Packets the hardening's Docker chain dropped (published ports the policy does not admit). */
const dockerDrops = (sandbox: Sandbox) => counted(sandbox, /^\[(\d+):\d+\] -A openclaw-docker-user -j DROP$/);

/** Waits until every packet the logging rules passed is a line in the log file. */
async function logSettled(sandbox: Sandbox): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = sandbox.logCounters();
    const want = (c.get("[UFW BLOCK]") ?? 0) + (c.get("[UFW LIMIT BLOCK]") ?? 0);
    const have = sandbox.ufwLog().filter((l) => /\[UFW (LIMIT )?BLOCK\]/.test(l)).length;
    if (have === want) return want;
    if (Date.now() > deadline) assert.fail(`the log has ${have} block lines, the counters say ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm run blocks", { skip }, () => {
  test("reports each blocked flow with the firewall's own counts, from the UFW log and from the journal", async () => {
    const sandbox = await newSandbox();
    // A container publishes 8080, which the policy does not admit: Docker forwards it past UFW,
    // and the hardening's Docker chain logs and drops it.
    await sandbox.publish(8080);
    await applyOk(sandbox, await homeSteps(sandbox, { "openclaw:firewall": FIREWALL }));
    await sandbox.captureLog();

    // Under UFW's log burst (10 per logging rule), so every dropped packet is logged.
    const dropsBefore = policyDrops(sandbox);
    const { untrusted, trusted } = sandbox;
    const dropped = {
      "block in 203.0.113.10 8000": await blockedFlow(sandbox, untrusted, "v4", 8000, 3),
      "block in 2001:db8:2::10 8000": await blockedFlow(sandbox, untrusted, "v6", 8000, 2),
      "block in 203.0.113.10 9000": await blockedFlow(sandbox, untrusted, "v4", 9000, 1),
      "block in 192.168.1.10 3306": await blockedFlow(sandbox, trusted, "v4", 3306, 2),
    };
    // Admitted: the LAN may reach the API. Must not be reported.
    assert.deepEqual((await attempt(sandbox, trusted, "v4", 8000, 1)).verdicts, ["open"]);
    // `ufw limit`: 6 new connections per 30 s per address; the rest are refused and logged.
    const webhook = (await attempt(sandbox, untrusted, "v4", 9001, 9)).verdicts;
    const limited = webhook.filter((o) => o === "refused").length;
    assert.ok(limited >= 3 && webhook.filter((o) => o === "open").length >= 5, webhook.join(" "));
    // Logged after Docker's DNAT: the container's address and port.
    const forwardedFlows = {
      "block forward 203.0.113.10 80": await blockedFlow(sandbox, untrusted, "v4", 8080, 2),
      "block forward 2001:db8:2::10 80": await blockedFlow(sandbox, untrusted, "v6", 8080, 1),
    };
    const sent = (flows: Record<string, { packets: number }>) =>
      Object.values(flows).reduce((n, f) => n + f.packets, 0);
    const logged = await logSettled(sandbox);

    const fromFile = await jsonReport(sandbox);
    assert.deepEqual(fromFile.sources, ["/var/log/ufw.log"]);
    assert.equal(fromFile.logging, "medium");
    assert.deepEqual(byFlow(fromFile), {
      ...dropped,
      "limit in 203.0.113.10 9001": { packets: limited, attempts: limited },
      ...forwardedFlows,
    });
    const forwarded = fromFile.groups.filter((g) => g.direction === "forward");
    assert.deepEqual(forwarded.flatMap((g) => g.destinations).sort(), ["172.17.0.2", "fd00:17::2"]);
    // The firewall's counters: every packet its policy and the Docker chain dropped, and every
    // one it logged.
    assert.equal(policyDrops(sandbox) - dropsBefore, sent(dropped));
    assert.equal(dockerDrops(sandbox), sent(forwardedFlows));
    assert.equal(fromFile.packets, logged);
    assert.equal(fromFile.packets, sent(dropped) + limited + sent(forwardedFlows));
    // Busiest first.
    assert.deepEqual(
      fromFile.groups.map((g) => g.packets),
      fromFile.groups.map((g) => g.packets).sort((a, b) => b - a),
    );

    // Past the burst, UFW logs 3 a minute: the report has what the log has, and says so.
    const before = policyDrops(sandbox);
    const burst = await blockedFlow(sandbox, untrusted, "v4", 9000, 12);
    assert.equal(policyDrops(sandbox) - before, burst.packets);
    const loggedNow = await logSettled(sandbox);
    const later = await jsonReport(sandbox);
    assert.equal(later.packets, loggedNow);
    const port9000 = byFlow(later)["block in 203.0.113.10 9000"]!;
    assert.ok(
      port9000.packets < dropped["block in 203.0.113.10 9000"].packets + burst.packets &&
        port9000.packets > 1,
      JSON.stringify(port9000),
    );
    const text = await blocks(sandbox);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^Blocked traffic on root@192\.168\.1\.100 \(stack home\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to /,
    );
    assert.match(text.stdout, /\nHOUR +DIR +SOURCE +PORT +RULE +ATTEMPTS +PACKETS +TO\n/);
    assert.match(
      text.stdout,
      /\n\S+ \S+ +in +203\.0\.113\.10 +9001\/tcp +limit +\d+ +\d+ +192\.168\.1\.100\n/,
    );
    assert.match(text.stdout, /UFW rate-limits its own logging/);

    // A host without rsyslog: the same lines, as kernel messages in the journal, mixed with
    // other kernel messages and with one block older than the default week.
    const old =
      "[UFW BLOCK] IN=eth0 OUT= MAC= SRC=198.51.100.77 DST=192.168.1.100 LEN=60 PROTO=TCP SPT=40000 DPT=23 SYN URGP=0";
    sandbox.moveLogToJournal([
      { message: "eth0: link becomes ready", daysAgo: 0 },
      { message: old, daysAgo: 10 },
    ]);
    const fromJournal = await jsonReport(sandbox);
    assert.deepEqual(fromJournal.sources, ["journal"]);
    assert.deepEqual(byFlow(fromJournal), byFlow(later));
    assert.ok(fromJournal.groups.every((g) => /^\d{4}-\d{2}-\d{2}T\d{2}:00[+-]\d{2}:\d{2}$/.test(g.hour)));
    const month = await jsonReport(sandbox, "--since", "30d");
    assert.deepEqual(byFlow(month)["block in 198.51.100.77 23"], { packets: 1, attempts: 1 });
    assert.equal(month.packets, later.packets + 1);
  });
});
