// `npm run blocks` against a booted Debian host, which has journald and no syslog file: the
// report is read from the host's journal over SSH as the image's sudo user.
//
// The kernel logs UFW's LOG rules only from the machine's own network namespace (unless the
// global net.netfilter.nf_log_all_netns is set, which tests must not touch), and a container's
// journald reads no kernel ring buffer. So, as in blocks.test.ts, the packets UFW's logging
// rules pass are sent to ulogd (NFLOG, same matches and limits), and its lines are written into
// the booted host's journal as kernel messages; its journald, journalctl and sudo are real.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { logCaptureUnavailable } from "../support/host/sandbox";
import { applyOk, hostSuiteSkip } from "../support/host/hostTest";
import { bootedPool } from "../support/host/bootedTest";
import type { BlockGroup } from "../../components/blocks/report";

const skip = hostSuiteSkip(bootedUnavailable() ?? logCaptureUnavailable());
const newHost = bootedPool();
const ROOT = path.join(__dirname, "..", "..");

interface Report {
  sources: string[];
  packets: number;
  groups: (BlockGroup & { port: number | null })[];
}

/** Runs `npm run blocks --json` from the admin network as the image's login user. */
async function blocksReport(host: BootedHost): Promise<Report> {
  const r = await host.exec(host.admin.ns, [
    ...[process.execPath, "--import", "tsx", path.join(ROOT, "bin", "blocks.ts"), "--stack", "home"],
    ...["--user", host.user, "-i", host.clientKey],
    ...["-o", `UserKnownHostsFile=${path.join(host.dir, "known_hosts")}`, "-o", "BatchMode=yes", "--json"],
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

describe("npm run blocks on a booted Debian host (systemd-nspawn)", { skip }, () => {
  test("proof 6: the blocked packets are read from the booted host's journal", async () => {
    const host = await newHost();
    await applyOk(host, await host.steps());
    assert.match(host.onServer("ls /var/log"), /^journal$/m);
    assert.doesNotMatch(
      host.onServer("ls /var/log"),
      /^(ufw\.log|syslog)$/m,
      "no syslog file to read instead",
    );
    await host.captureLog();

    const probes = await host.probe(
      host.untrusted,
      Array.from({ length: 6 }, () => ({ host: host.server.v4, port: 9000 })),
    );
    assert.deepEqual(probes, Array(6).fill("blocked"));
    const deadline = Date.now() + 30_000;
    let counted = 0;
    // Every packet the logging rules passed is a line before it goes to the journal.
    for (;;) {
      counted = host.logCounters().get("[UFW BLOCK]") ?? 0;
      if (counted > 0 && host.ufwLog().filter((l) => l.includes("[UFW BLOCK]")).length === counted) break;
      if (Date.now() > deadline) assert.fail(`the log never caught up with the counters (${counted})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    host.moveLogToJournal([]);
    const kernel = host.journal("_TRANSPORT=kernel -o cat");
    assert.equal(kernel.split("\n").filter((l) => l.includes("[UFW BLOCK]")).length, counted, kernel);

    const report = await blocksReport(host);
    assert.deepEqual(report.sources, ["journal"]);
    assert.equal(report.packets, counted);
    const flow = report.groups.filter((g) => g.source === "203.0.113.10" && g.port === 9000);
    assert.ok(flow.length > 0, JSON.stringify(report.groups));
    assert.equal(
      flow.reduce((n, g) => n + g.packets, 0),
      report.groups.filter((g) => g.source === "203.0.113.10").reduce((n, g) => n + g.packets, 0),
    );
    assert.ok(
      flow.every((g) => g.rule === "block" && g.direction === "in"),
      JSON.stringify(flow),
    );
    // It read them through sudo: the login user's own journalctl sees no kernel messages.
    assert.equal(
      (
        await host.ssh(
          {
            host: host.server.v4,
            port: 22,
            user: host.user,
            privateKey: fs.readFileSync(host.clientKey, "utf8"),
          },
          "journalctl _TRANSPORT=kernel -q --no-pager | grep -c 'UFW BLOCK' || true",
          "",
          { timeoutMs: 30_000, perDialSeconds: 5 },
        )
      ).stdout.trim(),
      "0",
    );
  });
});
