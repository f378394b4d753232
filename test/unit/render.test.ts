import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { renderAwsRules } from "../../components/cloud/awsRules";
import { renderHcloudRules } from "../../components/cloud/hcloudRules";
import { renderSshReplies } from "../../components/hardening/sshReplies";
import { assertWithinQuotas, quotaProblems } from "../../components/cloud/quotas";
import { renderAdmittedTable } from "../../components/plan/table";
import { renderUfwRules } from "../../components/hardening/ufwRules";
import { documentedOutgoing, validConfig } from "../support/configs";

const seed = parsePolicy({
  ssh: { adminCidrs: ["0.0.0.0/0", "::/0"] },
  services: [{ name: "openclaw-api", port: 8000, protocol: "tcp", sources: ["192.168.1.0/24"] }],
}).policy;

describe("UFW rendering", () => {
  test("the seed's configuration, as `ufw show added` prints it", () => {
    assert.deepEqual(renderUfwRules(seed), [
      "ufw allow 22/tcp comment 'openclaw:ssh'",
      "ufw allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api'",
    ]);
  });
  test("hosts lose /32 and /128, ranges use ':', limits, IPv6-only rules come last", () => {
    const { policy } = parsePolicy({
      ssh: { adminCidrs: ["2001:db8::10", "203.0.113.50"], rateLimit: true },
      services: [
        { name: "dns", ports: ["5300-5310"], protocol: "udp", sources: ["2001:db8::/48", "198.51.100.0/24"] },
      ],
    });
    assert.deepEqual(renderUfwRules(policy), [
      "ufw limit from 203.0.113.50 to any port 22 proto tcp comment 'openclaw:ssh'",
      "ufw allow from 198.51.100.0/24 to any port 5300:5310 proto udp comment 'openclaw:dns'",
      "ufw limit from 2001:db8::10 to any port 22 proto tcp comment 'openclaw:ssh'",
      "ufw allow from 2001:db8::/48 to any port 5300:5310 proto udp comment 'openclaw:dns'",
    ]);
  });
  test("a world open on one family only is written as its two halves, since UFW reads 0.0.0.0/0 as any", () => {
    const { policy } = parsePolicy({
      ssh: { adminCidrs: ["203.0.113.50"] },
      services: [{ name: "web", port: 443, public: true, sources: ["0.0.0.0/0", "2001:db8::/32"] }],
    });
    assert.deepEqual(renderUfwRules(policy).slice(1), [
      "ufw allow from 0.0.0.0/1 to any port 443 proto tcp comment 'openclaw:web'",
      "ufw allow from 128.0.0.0/1 to any port 443 proto tcp comment 'openclaw:web'",
      "ufw allow from 2001:db8::/32 to any port 443 proto tcp comment 'openclaw:web'",
    ]);
  });
  test("with IPv6 off, 0.0.0.0/0 is simply any", () => {
    const { policy } = parsePolicy({ ipv6: false, ssh: { adminCidrs: ["0.0.0.0/0"] } });
    assert.deepEqual(renderUfwRules(policy), ["ufw allow 22/tcp comment 'openclaw:ssh'"]);
  });
  test("outgoing allow-list rules", () => {
    const { policy } = parsePolicy({
      ...validConfig(),
      outgoing: {
        policy: "deny",
        allow: [{ name: "https", port: 443, destinations: ["0.0.0.0/0", "::/0"] }],
      },
    });
    assert.deepEqual(
      renderUfwRules(policy).filter((l) => l.includes(" out ")),
      // Both worlds are UFW's "any", as `ufw show added` prints it back.
      ["ufw allow out 443/tcp comment 'openclaw:out:https'"],
    );
  });
  test("sshd's replies: a chain of ours lets out the SSH port's packets that open no connection", () => {
    const { policy } = parsePolicy({
      ...validConfig(),
      ssh: { port: 2222, adminCidrs: ["203.0.113.50"] },
      outgoing: { policy: "deny", allow: [] },
    });
    // The session that enables UFW may not be tracked by conntrack; a SYN from the SSH port is
    // another process opening a connection, and follows the allow-list.
    const rule = "-A openclaw-ssh-replies -p tcp -m tcp --sport 2222 --tcp-flags SYN NONE -j ACCEPT";
    assert.deepEqual(renderSshReplies(policy), { v4: [rule], v6: [rule] });
    assert.deepEqual(
      renderSshReplies(parsePolicy({ ...validConfig(), ipv6: false, outgoing: { policy: "deny" } }).policy),
      {
        v4: ["-A openclaw-ssh-replies -p tcp -m tcp --sport 22 --tcp-flags SYN NONE -j ACCEPT"],
        v6: [],
      },
    );
    // With outgoing allowed, UFW lets everything out and the chain is not needed.
    assert.deepEqual(renderSshReplies(parsePolicy(validConfig()).policy), { v4: [], v6: [] });
  });
  test("the documented allow-list renders as `ufw show added` prints it back on a real host", () => {
    // Read back from ufw 0.36.2 after adding each line: `to 0.0.0.0/0` comes back as
    // `allow out 123/udp` though the kernel keeps it IPv4-only, so an IPv4-only world is written
    // as its halves, exactly as inbound sources are.
    const { policy } = parsePolicy({
      ...validConfig(),
      outgoing: documentedOutgoing(),
    });
    assert.deepEqual(
      renderUfwRules(policy).filter((l) => l.includes(" out ")),
      [
        "ufw allow out to 1.1.1.1 port 53 proto udp comment 'openclaw:out:dns'",
        "ufw allow out to 9.9.9.9 port 53 proto udp comment 'openclaw:out:dns'",
        "ufw allow out 443/tcp comment 'openclaw:out:https'",
        "ufw allow out to 0.0.0.0/1 port 123 proto udp comment 'openclaw:out:ntp'",
        "ufw allow out to 128.0.0.0/1 port 123 proto udp comment 'openclaw:out:ntp'",
      ],
    );
  });
});

describe("repeated outgoing entries", () => {
  const withAllow = (allow: unknown[]) => () =>
    parsePolicy({ ...validConfig(), outgoing: { policy: "deny", allow } } as never);
  test("the same protocol, port and destination twice is refused before any layer is rendered", () => {
    assert.throws(
      withAllow([
        { name: "api", port: 443, destinations: ["203.0.113.0/24"] },
        { name: "api-again", ports: [443, 8443], destinations: ["198.51.100.0/24", "203.0.113.0/24"] },
      ]),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.equal(e.problems.length, 1);
        assert.equal(e.problems[0]!.key, "openclaw:firewall.outgoing.allow[1]");
        assert.equal(e.problems[0]!.value, "tcp port 443 to 203.0.113.0/24");
        assert.match(e.message, /is already allowed by allow\[0\] \(api\)/);
        return true;
      },
    );
  });
  test("a destination inside another entry's for the same ports is refused: UFW could repeat its half", () => {
    assert.throws(
      withAllow([
        { name: "web", port: 443, destinations: ["0.0.0.0/0"] },
        { name: "half", port: 443, destinations: ["0.0.0.0/1"] },
      ]),
      /allow\[1\]: "tcp port 443 to 0\.0\.0\.0\/1" is already allowed by allow\[0\] \(web\), whose 0\.0\.0\.0\/0 contains it/,
    );
  });
  test("other protocols, other port ranges and disjoint destinations are distinct rules on every layer", () => {
    const { policy } = withAllow([
      { name: "a", port: 443, destinations: ["203.0.113.0/24"] },
      { name: "b", port: 443, protocol: "udp", destinations: ["203.0.113.0/24"] },
      { name: "c", port: "443-444", destinations: ["203.0.113.0/24"] },
      { name: "d", port: 443, destinations: ["198.51.100.0/24"] },
    ])();
    const ufw = renderUfwRules(policy).filter((l) => l.includes(" out to "));
    const aws = renderAwsRules(policy).filter((r) => r.direction === "egress");
    const hcloud = renderHcloudRules(policy).filter((r) => r.direction === "out");
    assert.equal(new Set(ufw.map((l) => l.replace(/ comment .*/, ""))).size, 4);
    assert.equal(new Set(aws.map((r) => r.key)).size, 4);
    assert.equal(hcloud.length, 4);
  });
});

describe("AWS rendering", () => {
  test("one CIDR per rule, named from content, explicit egress", () => {
    assert.deepEqual(renderAwsRules(seed), [
      {
        key: "in-tcp-22-22-0.0.0.0_0",
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "0.0.0.0/0",
        description: "SSH (tcp/22)",
      },
      {
        key: "in-tcp-22-22---_0",
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv6: "::/0",
        description: "SSH (tcp/22)",
      },
      {
        key: "in-tcp-8000-8000-192.168.1.0_24",
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 8000,
        toPort: 8000,
        cidrIpv4: "192.168.1.0/24",
        description: "openclaw-api (tcp/8000)",
      },
      {
        key: "out-all-0.0.0.0_0",
        direction: "egress",
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "All outgoing traffic",
      },
      {
        key: "out-all---_0",
        direction: "egress",
        ipProtocol: "-1",
        cidrIpv6: "::/0",
        description: "All outgoing traffic",
      },
    ]);
  });
  test("removing one source leaves every other rule's name unchanged", () => {
    const withThree = parsePolicy({
      ...validConfig(),
      ssh: { adminCidrs: ["192.0.2.1", "198.51.100.0/24", "203.0.113.0/24"] },
    });
    const withTwo = parsePolicy({ ...validConfig(), ssh: { adminCidrs: ["192.0.2.1", "203.0.113.0/24"] } });
    const keys = (p: typeof withTwo) => renderAwsRules(p.policy).map((r) => r.key);
    assert.deepEqual(
      keys(withThree).filter((k) => !k.includes("198.51.100.0")),
      keys(withTwo),
    );
  });
});

describe("Hetzner rendering", () => {
  test("one rule per port range with IPv4 and IPv6 sources; no out rules keeps outgoing open", () => {
    assert.deepEqual(renderHcloudRules(seed), [
      { direction: "in", protocol: "tcp", port: "22", sourceIps: ["0.0.0.0/0", "::/0"], description: "SSH" },
      {
        direction: "in",
        protocol: "tcp",
        port: "8000",
        sourceIps: ["192.168.1.0/24"],
        description: "openclaw-api",
      },
    ]);
  });
  test("deny with nothing allowed is one out rule that admits nothing: Hetzner has no deny rule", () => {
    const { policy } = parsePolicy({ ...validConfig(), outgoing: { policy: "deny", allow: [] } });
    assert.deepEqual(
      renderHcloudRules(policy).filter((r) => r.direction === "out"),
      [
        {
          direction: "out",
          protocol: "icmp",
          destinationIps: ["192.0.2.0/24"],
          description: "deny all outgoing: admits nothing (RFC 5737 documentation range)",
        },
      ],
    );
  });
  test("more than 100 addresses are split into rules of at most 100", () => {
    const sources = Array.from({ length: 150 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.0/24`);
    const { policy } = parsePolicy({ ...validConfig(), services: [{ name: "a", port: 9000, sources }] });
    const rules = renderHcloudRules(policy).filter((r) => r.port === "9000");
    assert.deepEqual(
      rules.map((r) => r.sourceIps!.length),
      [100, 50],
    );
    assert.deepEqual(
      rules.flatMap((r) => r.sourceIps),
      policy.services[0]!.sources.map((c) => c.text),
    );
  });
});

describe("provider quotas", () => {
  const sources = (n: number, v6 = false) =>
    Array.from({ length: n }, (_, i) => (v6 ? `2001:db8:${i.toString(16)}::/48` : `10.0.${i}.0/24`));
  test("AWS: 60 inbound rules per family fit, 61 do not, and the error names the key", () => {
    const fits = parsePolicy({
      ssh: { adminCidrs: ["192.0.2.1"] },
      services: [{ name: "a", port: 1, sources: sources(59) }],
    });
    assert.deepEqual(quotaProblems(fits.policy, "aws", "openclaw:firewall"), []);
    const over = parsePolicy({
      ssh: { adminCidrs: ["192.0.2.1"] },
      services: [{ name: "a", port: 1, sources: sources(60) }],
    });
    assert.throws(
      () => assertWithinQuotas(over.policy, "aws", "openclaw:firewall"),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.match(
          e.message,
          /openclaw:firewall\.services: 61 renders to 61 IPv4 ingress rules, over the AWS security group limit of 60/,
        );
        return true;
      },
    );
  });
  test("AWS counts each family separately", () => {
    const { policy } = parsePolicy({
      ssh: { adminCidrs: ["192.0.2.1", "2001:db8:ffff::1"] },
      services: [{ name: "a", port: 1, sources: [...sources(59), ...sources(59, true)] }],
    });
    assert.deepEqual(quotaProblems(policy, "aws", "k"), []);
  });
  test("Hetzner: more than 50 rules", () => {
    const services = Array.from({ length: 50 }, (_, i) => ({
      name: `s${i}`,
      port: 1000 + i,
      sources: ["192.0.2.0/24"],
    }));
    const { policy } = parsePolicy({ ssh: { adminCidrs: ["192.0.2.1"] }, services });
    const problems = quotaProblems(policy, "hcloud", "openclaw:firewall");
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.problem, /51 Hetzner firewall rules, over Hetzner's limit of 50/);
    assert.deepEqual(quotaProblems(policy, "aws", "openclaw:firewall"), []);
  });
  test("Hetzner: more than 500 effective rules", () => {
    const many = Array.from({ length: 1000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.0/24`);
    const services = [0, 1].map((i) => ({
      name: `s${i}`,
      port: 1000 + i,
      sources: many.slice(i * 250, i * 250 + 250),
    }));
    const { policy } = parsePolicy({ ssh: { adminCidrs: ["192.0.2.1"] }, services });
    const problems = quotaProblems(policy, "hcloud", "openclaw:firewall");
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.problem, /501 effective Hetzner rules/);
  });
});

test("the admitted-traffic table shows who may reach which port, per family", () => {
  assert.equal(
    renderAdmittedTable(seed),
    [
      "SERVICE       PROTO  PORT  FAMILY  SOURCE              RATE",
      "ssh           tcp    22    IPv4    0.0.0.0/0 (anyone)  -",
      "ssh           tcp    22    IPv6    ::/0 (anyone)       -",
      "openclaw-api  tcp    8000  IPv4    192.168.1.0/24      -",
      "",
      "Incoming: everything else is denied, on IPv4 and IPv6.",
      "Outgoing: allowed to anywhere.",
      "Logging: medium.",
    ].join("\n"),
  );
});

test("the admitted-traffic table says whom the outgoing allow-list holds for: containers too, unless hardening.docker is off", () => {
  const { policy } = parsePolicy({
    ...validConfig(),
    outgoing: { policy: "deny", allow: [{ name: "https", port: 443, destinations: ["0.0.0.0/0"] }] },
  });
  assert.ok(
    renderAdmittedTable(policy).includes(
      [
        "Outgoing: denied, for the host and its Docker containers, except to:",
        "NAME   PROTO  PORT  FAMILY  DESTINATION",
        "https  tcp    443   IPv4    0.0.0.0/0",
      ].join("\n"),
    ),
    renderAdmittedTable(policy),
  );
  assert.match(
    renderAdmittedTable(policy, false),
    /^Outgoing: denied for the host \(not for its Docker containers: hardening\.docker is false\) except to:$/m,
  );
});
