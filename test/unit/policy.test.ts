import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import YAML from "yaml";
import { PolicyError, type PolicyProblem } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import type { FirewallConfig } from "../../components/policy/types";
import { validConfig } from "../support/configs";
import { docProgram } from "../support/markdown";

const ROOT = path.join(__dirname, "..", "..");

function problemsOf(config: unknown): readonly PolicyProblem[] {
  try {
    parsePolicy(config);
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("config was accepted");
}

/** Asserts exactly one problem, at `key`, whose message mentions every fragment. */
function assertRejected(config: unknown, key: string, ...fragments: string[]): void {
  const problems = problemsOf(config);
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
  const [p] = problems as [PolicyProblem];
  assert.equal(p.key, key);
  const message = new PolicyError(problems).message;
  assert.ok(message.includes(key), message);
  for (const fragment of fragments)
    assert.ok(message.includes(fragment), `"${fragment}" missing from: ${message}`);
}

function withService(patch: Record<string, unknown>): FirewallConfig {
  const c = validConfig();
  return { ...c, services: [{ ...c.services![0], ...patch }] };
}

describe("validation errors name the key, the value and what is accepted", () => {
  const src = "openclaw:firewall.services[0].sources[0]";
  test("invalid address", () =>
    assertRejected(withService({ sources: ["192.168.1.300/24"] }), src, '"192.168.1.300/24"', "not a valid"));
  test("octal-looking address", () =>
    assertRejected(
      withService({ sources: ["010.0.0.1"] }),
      src,
      '"010.0.0.1"',
      "octal",
      "without leading zeros",
    ));
  test("host bits set, with the fix suggested", () =>
    assertRejected(
      withService({ sources: ["10.0.0.5/24"] }),
      src,
      '"10.0.0.5/24"',
      "did you mean 10.0.0.0/24? Accepted",
    ));
  test("IPv6 host bits set, suggestion in RFC 5952 form", () =>
    assertRejected(withService({ sources: ["2001:DB8::1/32"] }), src, "did you mean 2001:db8::/32?"));
  test("prefix out of range (IPv4)", () =>
    assertRejected(withService({ sources: ["10.0.0.0/33"] }), src, "/33", "/0 to /32"));
  test("prefix out of range (IPv6)", () =>
    assertRejected(withService({ sources: ["2001:db8::/129"] }), src, "/0 to /128"));
  test("zone id and shell characters are not addresses", () =>
    assertRejected(
      withService({ sources: ["fe80::1%eth0"] }),
      src,
      "characters that are not part of an address",
    ));
  test("port outside 1-65535", () =>
    assertRejected(
      withService({ port: 70000 }),
      "openclaw:firewall.services[0].port",
      "70000",
      "1 to 65535",
    ));
  test("port zero", () =>
    assertRejected(withService({ port: 0 }), "openclaw:firewall.services[0].port", "outside 1-65535"));
  test("reversed range", () =>
    assertRejected(
      withService({ port: "9000-8000" }),
      "openclaw:firewall.services[0].port",
      '"9000-8000"',
      "reversed",
    ));
  test("a bad entry in ports names its index", () =>
    assertRejected(
      withService({ port: undefined, ports: [8000, "x"] }),
      "openclaw:firewall.services[0].ports[1]",
      '"x"',
    ));
  test("unknown protocol", () =>
    assertRejected(
      withService({ protocol: "icmp" }),
      "openclaw:firewall.services[0].protocol",
      '"icmp"',
      "tcp, udp",
    ));
  test("service with no sources", () =>
    assertRejected(
      withService({ sources: [] }),
      "openclaw:firewall.services[0].sources",
      "at least one trusted source",
    ));
  test("service with sources missing", () =>
    assertRejected(
      withService({ sources: undefined }),
      "openclaw:firewall.services[0].sources",
      "(missing)",
    ));
  test("0.0.0.0/0 without public: true", () =>
    assertRejected(withService({ sources: ["0.0.0.0/0"] }), src, '"0.0.0.0/0"', "public: true"));
  test("::/0 without public: true", () =>
    assertRejected(withService({ sources: ["::/0"] }), src, '"::/0"', "public: true"));
  for (const bad of ["api;reboot", "api$(id)", "api`id`", "api'x", 'api"x', "api\nx"]) {
    test(`shell character in a name: ${JSON.stringify(bad)}`, () =>
      assertRejected(
        withService({ name: bad }),
        "openclaw:firewall.services[0].name",
        JSON.stringify(bad),
        "shell",
      ));
  }
  test("shell character in a description", () =>
    assertRejected(
      withService({ description: "API; rm -rf /" }),
      "openclaw:firewall.services[0].description",
      '";"',
      "shell",
    ));
  test("empty SSH admin list is a lockout", () =>
    assertRejected(
      { ...validConfig(), ssh: { adminCidrs: [] } },
      "openclaw:firewall.ssh.adminCidrs",
      "locked out",
    ));
  test("missing ssh section", () => assertRejected({ services: [] }, "openclaw:firewall.ssh", "is required"));
  test("IPv6 source with ipv6: false", () =>
    assertRejected({ ...withService({ sources: ["2001:db8::/32"] }), ipv6: false }, src, "ipv6 is false"));
  test("unknown key, e.g. a typo", () =>
    assertRejected(
      { ...validConfig(), sevices: [] },
      "openclaw:firewall.sevices",
      "not a known key; did you mean services? Accepted: one of ssh, services,",
    ));
  test("unknown logging level", () =>
    assertRejected(
      { ...validConfig(), logging: "verbose" },
      "openclaw:firewall.logging",
      '"verbose"',
      "off, low, medium, high, full",
    ));
  test("two services sharing a port", () => {
    const c = validConfig();
    const problems = problemsOf({
      ...c,
      services: [...c.services!, { name: "other", ports: ["7990-8010"], sources: ["10.0.0.0/8"] }],
    });
    assert.equal(problems[0]!.key, "openclaw:firewall.services[1]");
    assert.match(problems[0]!.problem, /overlaps tcp ports already declared by services\[0\]/);
  });
  test("a service on the SSH port", () =>
    assert.match(problemsOf(withService({ port: 22 }))[0]!.problem, /declared by ssh/));
  test("duplicate and reserved names", () => {
    const c = validConfig();
    const problems = problemsOf({
      ...c,
      services: [
        c.services![0],
        { ...c.services![0], port: 9000 },
        { name: "ssh", port: 9001, sources: ["10.0.0.0/8"] },
      ],
    });
    assert.deepEqual(
      problems.map((p) => p.key),
      ["openclaw:firewall.services[1].name", "openclaw:firewall.services[2].name"],
    );
  });
  test("every problem is reported at once", () => {
    const problems = problemsOf({
      ssh: { adminCidrs: ["10.0.0.5/24"] },
      services: [{ name: "a;b", port: 0, sources: [] }],
    });
    assert.deepEqual(problems.map((p) => p.key).sort(), [
      "openclaw:firewall.services[0].name",
      "openclaw:firewall.services[0].port",
      "openclaw:firewall.services[0].sources",
      "openclaw:firewall.ssh.adminCidrs[0]",
    ]);
  });
});

describe("normalisation", () => {
  test("canonical CIDRs: RFC 5952 IPv6, bare addresses become /32 and /128", () => {
    const { policy } = parsePolicy(
      withService({ sources: ["2001:0DB8:0000:0000:0000:0000:0000:0001", "192.0.2.7"] }),
    );
    assert.deepEqual(
      policy.services[0]!.sources.map((c) => c.text),
      ["192.0.2.7/32", "2001:db8::1/128"],
    );
  });
  test("duplicates and contained networks are collapsed, with a warning each", () => {
    const { policy, warnings } = parsePolicy(
      withService({
        sources: ["10.1.0.0/16", "10.0.0.0/8", "10.0.0.0/8", "2001:db8:1::/48", "2001:db8::/32"],
      }),
      { key: "openclaw:firewall", hostHasPublicAddress: false },
    );
    assert.deepEqual(
      policy.services[0]!.sources.map((c) => c.text),
      ["10.0.0.0/8", "2001:db8::/32"],
    );
    assert.deepEqual(
      warnings.map((w) => w.message),
      [
        "10.0.0.0/8 is listed more than once; the duplicate is ignored",
        "10.1.0.0/16 is inside 10.0.0.0/8 on the same list and is ignored",
        "2001:db8:1::/48 is inside 2001:db8::/32 on the same list and is ignored",
      ],
    );
    assert.equal(warnings[1]!.key, "openclaw:firewall.services[0].sources[0]");
  });
  test("overlapping and adjacent port ranges are merged", () => {
    const { policy } = parsePolicy(
      withService({ port: undefined, ports: [8003, "8000-8002", 8001, "9000-9010", 9005] }),
    );
    assert.deepEqual(policy.services[0]!.ports, [
      { from: 8000, to: 8003 },
      { from: 9000, to: 9010 },
    ]);
  });
  test("portRanges (the args' form of ranges) give the same policy as a stack file's mixed list", () => {
    const mixed = parsePolicy(
      withService({ port: undefined, ports: [8003, "8000-8002", 8001, "9000-9010", 9005] }),
    ).policy;
    const split = parsePolicy(
      withService({ port: undefined, ports: [8003, 8001, 9005], portRanges: ["8000-8002", "9000-9010"] }),
    ).policy;
    assert.deepEqual(split, mixed);
    const alone = parsePolicy(withService({ port: undefined, portRanges: ["8080-8090"] })).policy;
    assert.deepEqual(alone.services[0]!.ports, [{ from: 8080, to: 8090 }]);
  });
  test("a bad entry in portRanges names its index", () =>
    assertRejected(
      withService({ port: 8000, portRanges: ["8080-8090", "9000-8000"] }),
      "openclaw:firewall.services[0].portRanges[1]",
      '"9000-8000"',
      "reversed",
    ));
  test("an empty portRanges is refused like an empty ports", () =>
    assertRejected(
      withService({ port: undefined, portRanges: [] }),
      "openclaw:firewall.services[0].portRanges",
      "is not a non-empty list",
    ));
  test("defaults: tcp, logging medium, IPv6 on, outgoing allowed, no rate limit", () => {
    const { policy } = parsePolicy({
      ssh: { adminCidrs: ["192.0.2.1"] },
      services: [{ name: "a", port: 1, sources: ["192.0.2.0/24"] }],
    });
    assert.equal(policy.logging, "medium");
    assert.equal(policy.ipv6, true);
    assert.deepEqual(policy.outgoing, { policy: "allow" });
    assert.equal(policy.services[0]!.protocol, "tcp");
    assert.equal(policy.services[0]!.rateLimit, false);
    assert.deepEqual(policy.ssh.ports, [{ from: 22, to: 22 }]);
  });
  test("services are ordered by name, so the order they are written in does not matter", () => {
    const a = { name: "a", port: 1, sources: ["192.0.2.0/24"] };
    const b = { name: "b", port: 2, sources: ["192.0.2.0/24"] };
    const ssh = { adminCidrs: ["192.0.2.1"] };
    assert.equal(
      JSON.stringify(parsePolicy({ ssh, services: [b, a] })),
      JSON.stringify(parsePolicy({ ssh, services: [a, b] })),
    );
  });
});

describe("warnings", () => {
  test("private and ULA sources on a host with a public address", () => {
    const { warnings } = parsePolicy(
      withService({ sources: ["192.168.1.0/24", "fd12:3456::/48", "198.51.100.0/24"] }),
    );
    assert.deepEqual(
      warnings.map((w) => w.message.split(" ")[0]),
      ["192.168.1.0/24", "fd12:3456::/48"],
    );
    assert.match(warnings[0]!.message, /private or unique-local/);
  });
  test("no private-source warning on a host with a private address", () => {
    const { warnings } = parsePolicy(validConfig(), {
      key: "openclaw:firewall",
      hostHasPublicAddress: false,
    });
    assert.deepEqual(warnings, []);
  });
  test("SSH open to the world", () => {
    const { warnings } = parsePolicy({ ...validConfig(), ssh: { adminCidrs: ["0.0.0.0/0"] } });
    assert.equal(warnings[0]!.key, "openclaw:firewall.ssh.adminCidrs");
    assert.match(warnings[0]!.message, /open to the whole internet/);
  });
  test("rate limit on the SSH port", () => {
    const { warnings } = parsePolicy({
      ...validConfig(),
      ssh: { adminCidrs: ["203.0.113.50"], rateLimit: true },
    });
    assert.equal(warnings[0]!.key, "openclaw:firewall.ssh.rateLimit");
    assert.match(warnings[0]!.message, /deployer's own address can be blocked/);
  });
});

test("the firewall example in docs/configuration.md is a valid policy", () => {
  const example = YAML.parse(docProgram(ROOT, "firewall-example").text) as {
    "openclaw:firewall": unknown;
  };
  const { policy, warnings } = parsePolicy(example["openclaw:firewall"]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    policy.services.map((s) => s.name),
    ["openclaw-gateway"],
  );
});
