import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseUfwLog } from "../../components/blocks/ufwLog";
import { renderBlocksJson, renderBlocksText, summariseBlocks } from "../../components/blocks/report";
import { UsageError, parseBlocksArgs } from "../../components/blocks/options";
import { blocksTarget } from "../../components/blocks/target";
import { readBlocksOutput, renderBlocksScript } from "../../components/blocks/script";
import { parseStackSettings } from "../../components/stack/settings";
import { readStackFile } from "../../components/stack/stackFile";

const NOW = "2026-11-24T23:50:00";

// Captured in the sandbox (test/host/blocks.test.ts): UFW's own LOG rules, switched to NFLOG,
// written by ulogd2's LOGEMU, its emulation of the kernel's LOG format. Note the two spaces
// after the prefix, and SEQ, ACK and MARK, which the kernel leaves out.
const ULOGD = [
  "Nov 24 23:42:53 vm [UFW BLOCK]  IN=eth0 OUT= MAC=2a:35:69:95:9d:ca:1a:0c:97:48:71:8a:08:00 SRC=203.0.113.10 DST=192.168.1.100 LEN=60 TOS=00 PREC=0x00 TTL=63 ID=37736 DF PROTO=TCP SPT=51508 DPT=8000 SEQ=2417609826 ACK=0 WINDOW=64240 SYN URGP=0 MARK=0x0 ",
  "Nov 24 23:42:53 vm [UFW BLOCK]  IN=eth0 OUT= MAC=2a:35:69:95:9d:ca:1a:0c:97:48:71:8a:86:dd SRC=2001:db8:2::10 DST=2001:db8:1::100 LEN=80 TC=0 HOPLIMIT=63 FLOWLBL=812136 PROTO=TCP SPT=52996 DPT=8000 SEQ=827296617 ACK=0 WINDOW=64800 SYN URGP=0 MARK=0x0 ",
  "Nov 24 23:42:53 vm [UFW AUDIT]  IN=eth0 OUT= MAC=2a:35:69:95:9d:ca:1a:0c:97:48:71:8a:08:00 SRC=203.0.113.10 DST=192.168.1.100 LEN=60 TOS=00 PREC=0x00 TTL=63 ID=30404 DF PROTO=TCP SPT=44350 DPT=9000 SEQ=1937417808 ACK=0 WINDOW=64240 SYN URGP=0 MARK=0x0 ",
];

// Written to the kernel's LOG format (net/netfilter/nf_log_syslog.c) in the three wrappings
// hosts store it in: rsyslog's classic format with the kernel's uptime stamp (Ubuntu 22.04),
// rsyslog's RFC 3339 format (Ubuntu 24.04), and `journalctl -o short-iso` (systemd 252).
const KERNEL = {
  classic:
    "Nov 24 22:15:01 openclaw kernel: [ 8123.456789] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.50 DST=192.0.2.10 LEN=44 TOS=0x00 PREC=0x00 TTL=243 ID=54321 PROTO=TCP SPT=51234 DPT=3306 WINDOW=1024 RES=0x00 SYN URGP=0 ",
  rfc3339:
    "2026-11-24T22:15:02.123456+01:00 openclaw kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.50 DST=192.0.2.10 LEN=76 TOS=0x00 PREC=0x00 TTL=52 ID=0 DF PROTO=UDP SPT=5353 DPT=161 LEN=56 ",
  journal:
    "2026-11-24T22:15:03+0000 openclaw kernel: [UFW LIMIT BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:86:dd SRC=2001:db8:77::5 DST=2001:db8:1::10 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=40022 DPT=22 WINDOW=64800 RES=0x00 SYN URGP=0 ",
  icmp: "Nov 24 22:16:00 openclaw kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100.4 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=55 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 ",
  outgoing:
    "Nov 24 22:17:00 openclaw kernel: [UFW BLOCK] IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.25 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=9 DF PROTO=TCP SPT=41000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 ",
  forward:
    "Nov 24 22:18:00 openclaw kernel: [UFW BLOCK] IN=eth0 OUT=docker0 MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=172.17.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=3 DF PROTO=TCP SPT=42000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ",
};

/** A blocked TCP SYN in the classic format, for building logs. */
const syn = (time: string, src: string, spt: number, dpt: number, action = "BLOCK") =>
  `Nov 24 ${time} h kernel: [UFW ${action}] IN=eth0 OUT= MAC= SRC=${src} DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=${spt} DPT=${dpt} WINDOW=64240 RES=0x00 SYN URGP=0`;

describe("reading UFW's log", () => {
  test("ulogd's lines captured in the sandbox", () => {
    const { entries, unreadable } = parseUfwLog(ULOGD, NOW);
    assert.deepEqual(unreadable, []);
    assert.deepEqual(entries, [
      {
        time: "2026-11-24T23:42:53",
        action: "BLOCK",
        direction: "in",
        src: "203.0.113.10",
        dst: "192.168.1.100",
        protocol: "tcp",
        srcPort: 51508,
        dstPort: 8000,
      },
      {
        time: "2026-11-24T23:42:53",
        action: "BLOCK",
        direction: "in",
        src: "2001:db8:2::10",
        dst: "2001:db8:1::100",
        protocol: "tcp",
        srcPort: 52996,
        dstPort: 8000,
      },
      {
        time: "2026-11-24T23:42:53",
        action: "AUDIT",
        direction: "in",
        src: "203.0.113.10",
        dst: "192.168.1.100",
        protocol: "tcp",
        srcPort: 44350,
        dstPort: 9000,
      },
    ]);
  });

  test("the kernel's format in rsyslog's classic and RFC 3339 forms and in the journal", () => {
    const { entries, unreadable } = parseUfwLog(Object.values(KERNEL), NOW);
    assert.deepEqual(unreadable, []);
    const [classic, rfc3339, journal, icmp, outgoing, forward] = entries;
    assert.deepEqual(classic, {
      time: "2026-11-24T22:15:01",
      action: "BLOCK",
      direction: "in",
      src: "203.0.113.50",
      dst: "192.0.2.10",
      protocol: "tcp",
      srcPort: 51234,
      dstPort: 3306,
    });
    // UDP: the first LEN is the IP packet's; the ports are read, not the UDP length.
    assert.deepEqual(rfc3339, {
      time: "2026-11-24T22:15:02",
      offset: "+01:00",
      action: "BLOCK",
      direction: "in",
      src: "203.0.113.50",
      dst: "192.0.2.10",
      protocol: "udp",
      srcPort: 5353,
      dstPort: 161,
    });
    assert.equal(journal!.offset, "+00:00");
    assert.equal(journal!.action, "LIMIT BLOCK");
    assert.equal(journal!.src, "2001:db8:77::5");
    // ICMP has no ports; its ID and SEQ are not ports either.
    assert.equal(icmp!.protocol, "icmp");
    assert.equal(icmp!.dstPort, undefined);
    assert.equal(icmp!.srcPort, undefined);
    assert.equal(outgoing!.direction, "out");
    assert.equal(outgoing!.dst, "198.51.100.25");
    assert.equal(forward!.direction, "forward");
  });

  test("other kernel messages are skipped; a UFW line that cannot be read is kept aside, not dropped", () => {
    const broken = "Nov 24 22:15:01 h kernel: [UFW BLOCK] IN=eth0 OUT= MAC= LEN=60";
    const noTime = "garbage [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.1 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=2";
    const { entries, unreadable } = parseUfwLog(
      ["Nov 24 22:15:00 h kernel: eth0: link becomes ready", broken, noTime, KERNEL.classic],
      NOW,
    );
    assert.equal(entries.length, 1);
    assert.deepEqual(unreadable, [broken, noTime]);
  });

  test("syslog's classic lines carry no year: the latest one that is not in the future", () => {
    const line = (stamp: string) =>
      `${stamp} h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.1 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=2`;
    const at = (stamp: string, now: string) => parseUfwLog([line(stamp)], now).entries[0]!.time;
    assert.equal(at("Dec 31 23:59:59", "2027-01-01T00:10:00"), "2026-12-31T23:59:59");
    assert.equal(at("Jan  1 00:00:01", "2027-01-01T00:10:00"), "2027-01-01T00:00:01");
    // A host clock a little behind the log's is not taken for a year-old line.
    assert.equal(at("Nov 24 23:55:00", "2026-11-24T23:50:00"), "2026-11-24T23:55:00");
  });
});

describe("grouping blocked packets", () => {
  test("by hour, direction, source, port and rule; retransmissions are one attempt; busiest first", () => {
    const log = [
      syn("21:59:59", "203.0.113.7", 50000, 22),
      syn("22:00:01", "203.0.113.7", 50001, 22),
      syn("22:00:02", "203.0.113.7", 50001, 22), // the retransmitted SYN
      syn("22:10:00", "203.0.113.7", 50002, 22),
      syn("22:11:00", "203.0.113.7", 50003, 22, "LIMIT BLOCK"),
      syn("22:20:00", "198.51.100.3", 40000, 3306),
      syn("22:20:01", "198.51.100.3", 40001, 5432),
      syn("22:30:00", "192.168.1.10", 40000, 8000, "ALLOW"),
      syn("22:30:00", "192.168.1.10", 40000, 8000, "AUDIT"),
      KERNEL.icmp,
      KERNEL.icmp,
      KERNEL.outgoing,
    ];
    const report = summariseBlocks(parseUfwLog(log, NOW).entries, "2026-11-24T00:00:00");
    const rows = report.groups.map((g) => [
      g.hour,
      g.direction,
      g.source,
      g.port ?? g.protocol,
      g.rule,
      g.attempts,
      g.packets,
    ]);
    assert.deepEqual(rows, [
      ["2026-11-24T22:00", "in", "203.0.113.7", 22, "block", 2, 3],
      ["2026-11-24T22:00", "in", "198.51.100.4", "icmp", "block", 2, 2],
      // Ties: the latest hour, then by source address and port.
      ["2026-11-24T22:00", "out", "192.0.2.10", 25, "block", 1, 1],
      ["2026-11-24T22:00", "in", "198.51.100.3", 3306, "block", 1, 1],
      ["2026-11-24T22:00", "in", "198.51.100.3", 5432, "block", 1, 1],
      ["2026-11-24T22:00", "in", "203.0.113.7", 22, "limit", 1, 1],
      ["2026-11-24T21:00", "in", "203.0.113.7", 22, "block", 1, 1],
    ]);
    assert.equal(report.packets, 10);
    assert.equal(report.attempts, 9);
    assert.equal(report.first, "2026-11-24T21:59:59");
    assert.equal(report.last, "2026-11-24T22:20:01");
    assert.deepEqual(report.groups[2]!.destinations, ["198.51.100.25"]);
  });

  test("only packets at or after the window's start count", () => {
    const log = [syn("21:59:59", "203.0.113.7", 1, 22), syn("22:00:00", "203.0.113.7", 2, 22)];
    const report = summariseBlocks(parseUfwLog(log, NOW).entries, "2026-11-24T22:00:00");
    assert.equal(report.packets, 1);
    assert.equal(report.first, "2026-11-24T22:00:00");
  });

  test("hours in different UTC offsets (a DST change) stay apart and sort by the instant", () => {
    const report = summariseBlocks(
      parseUfwLog([KERNEL.rfc3339, KERNEL.journal], NOW).entries,
      "2026-01-01T00:00:00",
    );
    assert.deepEqual(
      report.groups.map((g) => g.hour),
      ["2026-11-24T22:00+00:00", "2026-11-24T22:00+01:00"],
    );
  });
});

describe("printing the report", () => {
  const context = {
    stack: "home",
    host: "admin@192.168.1.100",
    sources: ["/var/log/ufw.log.1", "/var/log/ufw.log"],
    since: "2026-11-17T23:50:00",
    now: "2026-11-24T23:50:00+00:00",
    logging: "medium",
    unreadable: [],
  };
  const fan = Array.from({ length: 4 }, (_, i) =>
    KERNEL.outgoing
      .replace("DST=198.51.100.25", `DST=198.51.100.${30 + i}`)
      .replace("SPT=41000", `SPT=4100${i}`),
  );
  const report = summariseBlocks(
    parseUfwLog([...fan, KERNEL.classic, KERNEL.icmp], NOW).entries,
    context.since,
  );

  test("a table with aligned columns, the window, the sources and how to read the numbers", () => {
    const text = renderBlocksText(report, context);
    const lines = text.split("\n");
    assert.equal(
      lines[0],
      "Blocked traffic on admin@192.168.1.100 (stack home), 2026-11-17 23:50:00 to 2026-11-24 23:50:00 host time (UTC+00:00)",
    );
    assert.equal(lines[1], "Read from /var/log/ufw.log.1, /var/log/ufw.log.");
    assert.equal(
      lines[2],
      "6 blocked packets (6 attempts) in 3 groups, 2026-11-24 22:15:01 to 2026-11-24 22:17:00.",
    );
    assert.deepEqual(lines.slice(4, 8), [
      "HOUR              DIR  SOURCE        PORT      RULE   ATTEMPTS  PACKETS  TO",
      "2026-11-24 22:00  out  192.0.2.10    25/tcp    block         4        4  198.51.100.30, 198.51.100.31 +2 more",
      "2026-11-24 22:00  in   198.51.100.4  icmp      block         1        1  192.0.2.10",
      "2026-11-24 22:00  in   203.0.113.50  3306/tcp  block         1        1  192.0.2.10",
    ]);
    assert.match(text, /UFW rate-limits its own logging/);
    assert.doesNotMatch(text, /logging is off|could not be read/);
  });

  test("says when logging is off, when no log was written or nothing blocked, and shows an unreadable line", () => {
    const empty = summariseBlocks([], context.since);
    const text = renderBlocksText(empty, {
      ...context,
      sources: [],
      logging: "off",
      unreadable: ["x [UFW BLOCK] y"],
    });
    assert.match(text, /\nRead nothing: no UFW log file was written to in this window\.\n/);
    assert.match(text, /UFW logging is off on this host, so nothing is logged/);
    assert.match(text, /No blocked packets were logged in this window\./);
    assert.match(text, /1 UFW line\(s\) could not be read, e.g.:\n {2}x \[UFW BLOCK\] y\n/);
  });

  test("JSON carries every destination and a null port for ICMP", () => {
    const json = JSON.parse(renderBlocksJson(report, context)) as Record<string, unknown> & {
      groups: { port: number | null; destinations: string[] }[];
    };
    assert.equal(json["packets"], 6);
    assert.equal(json["hostTime"], context.now);
    assert.deepEqual(json["sources"], context.sources);
    assert.equal(json.groups[0]!.destinations.length, 4);
    assert.equal(json.groups[1]!.port, null);
  });
});

describe("npm run blocks: its command line", () => {
  test("defaults, and each option parsed", () => {
    assert.deepEqual(parseBlocksArgs(["--stack", "home"]), {
      stack: "home",
      since: "7d",
      json: false,
      sshOptions: [],
    });
    assert.deepEqual(
      parseBlocksArgs([
        ...["-s", "dev", "--since", "2026-11-20T14:00", "--json", "--host", "2001:db8::5", "--port", "2222"],
        ...["--user", "ubuntu", "-i", "/k", "-o", "ProxyJump=bastion", "-o", "ConnectTimeout=5"],
      ]),
      {
        stack: "dev",
        since: "2026-11-20 14:00",
        json: true,
        host: "2001:db8::5",
        port: 2222,
        user: "ubuntu",
        identity: "/k",
        sshOptions: ["ProxyJump=bastion", "ConnectTimeout=5"],
      },
    );
  });

  test("a bad value names the flag, the value and what is accepted", () => {
    const cases: [string[], RegExp][] = [
      [[], /^--stack is required/],
      [
        ["-s", "home", "--since", "7w"],
        /^--since "7w" is not valid\. Accepted: a number of hours or days such as 24h or 7d/,
      ],
      [["-s", "home", "--since", "2026-02-30"], /^--since "2026-02-30" is not valid/],
      [["-s", "home", "--since", "$(reboot)"], /^--since "\$\(reboot\)" is not valid/],
      [
        ["-s", "home", "--host=-oProxyCommand=x"],
        /^--host "-oProxyCommand=x" is not valid\. Accepted: a host name/,
      ],
      [["-s", "home", "--port", "70000"], /^--port "70000" is not valid\. Accepted: a port from 1 to 65535/],
      [["-s", "home", "--user", "Root;"], /^--user "Root;" is not valid/],
      [
        ["-s", "home", "--ssh-option=-v"],
        /^--ssh-option "-v" is not valid\. Accepted: an ssh_config option, Name=value/,
      ],
      [["-s", "home", "--verbose"], /Unknown option '--verbose'/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseBlocksArgs(argv),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    }
  });

  const stacks = path.join(__dirname, "..", "..", "stacks");
  const settings = (stack: string) => parseStackSettings(readStackFile(stacks, stack));

  test("the host comes from the stack: an existing host's address, a cloud VM's only from --host", () => {
    assert.deepEqual(blocksTarget(settings("home"), parseBlocksArgs(["-s", "home"])), {
      host: "192.168.1.100",
      port: 22,
      user: "admin",
    });
    assert.throws(
      () => blocksTarget(settings("dev"), parseBlocksArgs(["-s", "dev"])),
      /^Error: --host is required for stack dev: it is an aws target, whose address is a stack output\. Accepted: the VM's address, e\.g\. --host "\$\(pulumi stack output publicIpv4 -s dev\)"\.$/,
    );
    assert.deepEqual(blocksTarget(settings("prod"), parseBlocksArgs(["-s", "prod", "--host", "192.0.2.7"])), {
      host: "192.0.2.7",
      port: 22,
      user: "root",
    });
  });

  test("a usage error exits 2 with the usage, before any connection", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "..", "..", "bin", "blocks.ts"), "--stack", "dev"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^--host is required for stack dev/);
    assert.match(r.stderr, /Usage: npm run blocks -- --stack <name> \[options\]/);
    assert.equal(r.stdout, "");
  });
});

describe("npm run blocks: the host side", () => {
  test("the script is valid bash and carries the window as a quoted value", () => {
    const script = renderBlocksScript("2026-11-20 14:00");
    assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0);
    assert.match(script, /^SINCE='2026-11-20 14:00'$/m);
    assert.match(script, /^UFW_LOG='\/var\/log\/ufw\.log'$/m);
    assert.match(script, /\nblocks_main\n$/);
  });

  test("reads the log and those rotations written within the window, oldest first, blocks only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-blocks-"));
    try {
      const log = path.join(dir, "ufw.log");
      const days = (n: number) => new Date(Date.now() - n * 86_400_000);
      fs.writeFileSync(
        log,
        `${syn("22:00:00", "203.0.113.1", 1, 22)}\n${syn("22:00:01", "203.0.113.1", 2, 22, "AUDIT")}\n`,
      );
      fs.writeFileSync(`${log}.1`, `${syn("21:00:00", "203.0.113.2", 1, 22, "LIMIT BLOCK")}\n`);
      fs.utimesSync(`${log}.1`, days(3), days(3));
      fs.writeFileSync(`${log}.2`, `${syn("20:00:00", "203.0.113.3", 1, 22)}\n`);
      assert.equal(spawnSync("gzip", [`${log}.2`]).status, 0);
      fs.utimesSync(`${log}.2.gz`, days(20), days(20));
      fs.writeFileSync(`${log}.old`, `${syn("20:00:00", "203.0.113.4", 1, 22)}\n`);
      const run = (since: string) => {
        const r = spawnSync(
          "bash",
          ["-c", `SINCE='${since}' UFW_LOG='${log}'; . components/blocks/blocks.sh; blocks_main`],
          {
            encoding: "utf8",
            cwd: path.join(__dirname, "..", ".."),
          },
        );
        assert.equal(r.status, 0, r.stderr);
        return readBlocksOutput(r.stdout);
      };
      const week = run("7d");
      assert.deepEqual(week.sources, [`${log}.1`, log]);
      assert.deepEqual(
        week.lines.map((l) => /SRC=(\S+)/.exec(l)![1]),
        ["203.0.113.2", "203.0.113.1"],
      );
      const month = run("30d");
      assert.deepEqual(month.sources, [`${log}.2.gz`, `${log}.1`, log]);
      assert.equal(month.lines.length, 3);
      assert.match(month.now, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
      const since = new Date(`${month.since}Z`).getTime();
      const now = new Date(`${month.now.slice(0, 19)}Z`).getTime();
      assert.equal(now - since, 30 * 86_400_000);
      assert.equal(run("2026-11-20 14:00").since, "2026-11-20T14:00:00");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a reply without the script's header is refused, not read as an empty log", () => {
    assert.throws(() => readBlocksOutput("Welcome to Ubuntu\n"), /the host's reply has no now/);
  });
});
