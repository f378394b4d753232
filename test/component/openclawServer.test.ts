import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  invokes,
  promiseOf,
  recordParents,
  registrations,
  reset,
  setConfig,
  unwrapSecret,
  useStackConfig,
  type Registration,
} from "../support/mocks";
import { OpenClawServer } from "../../components/OpenClawServer";
import { runStack } from "../../components/stack/program";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { renderAwsRules } from "../../components/render/awsRules";
import { renderHcloudRules } from "../../components/render/hcloudRules";
import {
  REMOTE_SHELL,
  renderConfirmScript,
  renderConvergeScript,
  renderVerifyScript,
} from "../../components/host/script";
import { readStackFile } from "../../components/stack/stackFile";
import * as path from "node:path";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEYMATERIAL-7f3a9c\n-----END OPENSSH PRIVATE KEY-----\n";
const COMPONENT = "openclaw:index:OpenClawServer";
const PARENT = `${COMPONENT}::openclaw`;
const stackValue = (stack: string, key: string) =>
  readStackFile(path.join(__dirname, "..", "..", "stacks"), stack)(key);
const stackFirewall = (stack: string) => stackValue(stack, "firewall");

/** Runs the stack program and waits until every resource has registered. */
async function deploy(): Promise<{ server: OpenClawServer; outputs: Record<string, unknown> }> {
  const server = runStack(undefined, { transformations: [recordParents] });
  const outputs = await promiseOf(
    pulumi.output({
      publicIpv4: server.publicIpv4,
      publicIpv6: server.publicIpv6,
      sshCommand: server.sshCommand,
      cloudFirewallId: server.cloudFirewallId,
      firewallLayers: server.firewallLayers,
      admittedTraffic: server.admittedTraffic,
      hostFirewallStatus: server.hostFirewallStatus,
    }),
  );
  return { server, outputs: outputs as Record<string, unknown> };
}

const find = (type: string, name: string): Registration => {
  const r = registrations.find((x) => x.type === type && x.name === name);
  assert.ok(
    r,
    `no ${type} named ${name}; registered: ${registrations.map((x) => `${x.type}::${x.name}`).join(", ")}`,
  );
  return r;
};

/** The private key is sent only inside the secret SSH connection, and appears nowhere else. */
function assertKeyOnlyInConnections(outputs: Record<string, unknown>): void {
  for (const r of registrations) {
    const inputs = structuredClone(r.inputs);
    if (r.type === "command:remote:Command") {
      const connection = unwrapSecret(inputs["connection"]);
      assert.equal(connection.secret, true, `${r.name}: the connection is sent as a secret`);
      assert.equal(
        (connection.value as { privateKey?: string }).privateKey,
        KEY,
        `${r.name} connects with the key`,
      );
      delete inputs["connection"];
    }
    assert.ok(
      !JSON.stringify(inputs).includes("TESTKEYMATERIAL"),
      `private key leaked into ${r.type} ${r.name}`,
    );
  }
  assert.ok(!JSON.stringify(outputs).includes("TESTKEYMATERIAL"), "private key leaked into an output");
}

async function assertHardening(
  server: OpenClawServer,
  stack: string,
  host: string,
  port: number,
  user: string,
) {
  const policy = parsePolicy(stackFirewall(stack)).policy;
  const converge = find("command:remote:Command", "openclaw-harden");
  const verify = find("command:remote:Command", "openclaw-verify");
  const confirm = find("command:remote:Command", "openclaw-confirm");
  for (const step of [converge, verify, confirm]) {
    assert.equal(step.parent, PARENT);
    assert.equal(step.inputs["create"], REMOTE_SHELL);
    assert.equal(step.inputs["update"], REMOTE_SHELL);
    assert.deepEqual(
      { ...(unwrapSecret(step.inputs["connection"]).value as object), privateKey: "(checked separately)" },
      { host, port, user, privateKey: "(checked separately)", dialErrorLimit: -1, perDialTimeout: 15 },
    );
  }
  assert.equal(converge.inputs["stdin"], renderConvergeScript(policy));
  assert.equal(verify.inputs["stdin"], renderVerifyScript(policy));
  assert.equal(confirm.inputs["stdin"], renderConfirmScript(policy));
  // Each step re-runs when the one before it ran: its output is in the next one's triggers.
  assert.equal((verify.inputs["triggers"] as unknown[]).at(-1), "stdout of openclaw-harden");
  assert.equal((confirm.inputs["triggers"] as unknown[]).at(-1), "stdout of openclaw-verify");
  // The policy travels on stdin: no rule text in the command itself.
  assert.ok(!String(converge.inputs["create"]).includes("ufw"));
  assert.deepEqual(server.policy, policy);
}

beforeEach(() => reset());

describe("stack home: an existing host behind NAT", () => {
  test("only the hardening steps, parented to the component; outputs say UFW is the only layer", async () => {
    useStackConfig("home", KEY);
    const { server, outputs } = await deploy();
    assert.deepEqual(
      registrations.map((r) => `${r.type}::${r.name}`),
      [
        `${COMPONENT}::openclaw`,
        "command:remote:Command::openclaw-harden",
        "command:remote:Command::openclaw-verify",
        "command:remote:Command::openclaw-confirm",
      ],
    );
    await assertHardening(server, "home", "192.168.1.100", 22, "admin");
    assert.deepEqual(find("command:remote:Command", "openclaw-harden").inputs["triggers"], [
      "192.168.1.100:22",
    ]);
    assert.deepEqual(outputs["firewallLayers"], ["ufw"]);
    assert.equal(outputs["cloudFirewallId"], undefined);
    assert.equal(outputs["publicIpv4"], "192.168.1.100");
    assert.equal(outputs["sshCommand"], "ssh -p 22 admin@192.168.1.100");
    assert.equal(outputs["hostFirewallStatus"], "stdout of openclaw-confirm");
    assert.match(
      String(outputs["admittedTraffic"]),
      /openclaw-api {2}tcp {4}8000 {2}IPv4 {4}192\.168\.1\.0\/24/,
    );
    assertKeyOnlyInConnections(outputs);
  });
});

describe("stack dev: AWS", () => {
  test("security group, one rule per CIDR named from content, key pair, instance, hardening", async () => {
    useStackConfig("dev", KEY);
    const { server, outputs } = await deploy();
    const policy = parsePolicy(stackFirewall("dev")).policy;
    const rules = renderAwsRules(policy);
    assert.deepEqual(
      registrations.map((r) => `${r.type}::${r.name}`).sort(),
      [
        `${COMPONENT}::openclaw`,
        "aws:ec2/securityGroup:SecurityGroup::openclaw-sg",
        ...rules.map(
          (r) =>
            `aws:vpc/securityGroup${r.direction === "ingress" ? "Ingress" : "Egress"}Rule:SecurityGroup${r.direction === "ingress" ? "Ingress" : "Egress"}Rule::openclaw-${r.key}`,
        ),
        "aws:ec2/keyPair:KeyPair::openclaw-key",
        "aws:ec2/instance:Instance::openclaw-instance",
        "command:remote:Command::openclaw-harden",
        "command:remote:Command::openclaw-verify",
        "command:remote:Command::openclaw-confirm",
      ].sort(),
    );
    for (const r of registrations.slice(1))
      assert.equal(r.parent, PARENT, `${r.name} is parented to the component`);

    for (const rule of rules) {
      const type =
        rule.direction === "ingress"
          ? "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
          : "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
      const { key, direction, ...expected } = rule;
      void direction;
      assert.deepEqual(find(type, `openclaw-${key}`).inputs, {
        securityGroupId: "openclaw-sg-id",
        ...expected,
      });
    }
    assert.ok(rules.some((r) => r.cidrIpv6 === "2001:db8:1000::/48" && r.fromPort === 18789));
    assert.ok(
      rules.some((r) => r.direction === "egress" && r.ipProtocol === "-1" && r.cidrIpv4 === "0.0.0.0/0"),
    );

    const instance = find("aws:ec2/instance:Instance", "openclaw-instance").inputs;
    assert.deepEqual(instance["metadataOptions"], {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    });
    assert.deepEqual(instance["rootBlockDevice"], { volumeType: "gp3", volumeSize: 20, encrypted: true });
    assert.deepEqual(instance["vpcSecurityGroupIds"], ["openclaw-sg-id"]);
    assert.equal(instance["ami"], "ami-0123456789abcdef0");
    assert.equal(instance["keyName"], "openclaw-key-keyname");
    assert.equal(instance["userData"], undefined);
    assert.equal(instance["instanceType"], "t3.small");

    const ami = invokes.find((i) => i.token === "aws:ec2/getAmi:getAmi")!.inputs;
    assert.deepEqual(ami["owners"], ["099720109477"]);
    assert.deepEqual((ami["filters"] as { values: string[] }[])[0]!.values, [
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
    ]);

    await assertHardening(server, "dev", "203.0.113.10", 22, "ubuntu");
    assert.deepEqual(find("command:remote:Command", "openclaw-harden").inputs["triggers"], [
      "openclaw-instance-id",
    ]);
    assert.deepEqual(outputs["firewallLayers"], ["aws-security-group", "ufw"]);
    assert.equal(outputs["cloudFirewallId"], "openclaw-sg-id");
    assert.equal(outputs["publicIpv6"], "2001:db8:10::10");
    assert.equal(outputs["sshCommand"], "ssh -p 22 ubuntu@203.0.113.10");
    assertKeyOnlyInConnections(outputs);
  });
  test("a Graviton instance type gets the arm64 image; a given AMI skips the lookup", async () => {
    useStackConfig("dev", KEY, {
      "openclaw:aws": { instanceType: "t4g.small", publicKey: "ssh-ed25519 AAAAC3Nza k" },
    });
    await deploy();
    const filters = invokes.find((i) => i.token === "aws:ec2/getAmi:getAmi")!.inputs["filters"] as {
      values: string[];
    }[];
    assert.match(filters[0]!.values[0]!, /-arm64-server-\*$/);
    reset();
    useStackConfig("dev", KEY, {
      "openclaw:aws": { instanceType: "t3.small", publicKey: "ssh-ed25519 AAAAC3Nza k", ami: "ami-0abc" },
    });
    await deploy();
    assert.equal(invokes.filter((i) => i.token === "aws:ec2/getAmi:getAmi").length, 0);
    assert.equal(find("aws:ec2/instance:Instance", "openclaw-instance").inputs["ami"], "ami-0abc");
  });
});

describe("stack prod: Hetzner Cloud", () => {
  test("firewall attached at creation through firewallIds, SSH key, IPv4 and IPv6 sources", async () => {
    useStackConfig("prod", KEY);
    const { server, outputs } = await deploy();
    const policy = parsePolicy(stackFirewall("prod")).policy;
    assert.deepEqual(
      registrations.map((r) => `${r.type}::${r.name}`).sort(),
      [
        `${COMPONENT}::openclaw`,
        "hcloud:index/firewall:Firewall::openclaw-firewall",
        "hcloud:index/sshKey:SshKey::openclaw-key",
        "hcloud:index/server:Server::openclaw-server",
        "command:remote:Command::openclaw-harden",
        "command:remote:Command::openclaw-verify",
        "command:remote:Command::openclaw-confirm",
      ].sort(),
    );
    for (const r of registrations.slice(1)) assert.equal(r.parent, PARENT);
    const firewall = find("hcloud:index/firewall:Firewall", "openclaw-firewall");
    assert.deepEqual(firewall.inputs["rules"], renderHcloudRules(policy));
    assert.deepEqual((firewall.inputs["rules"] as { sourceIps: string[] }[])[0]!.sourceIps, [
      "198.51.100.10/32",
      "2001:db8:2000::10/128",
    ]);
    const serverInputs = find("hcloud:index/server:Server", "openclaw-server").inputs;
    const firewallId = Number(outputs["cloudFirewallId"]);
    assert.ok(Number.isInteger(firewallId));
    assert.deepEqual(serverInputs["firewallIds"], [firewallId]);
    const sshKey = find("hcloud:index/sshKey:SshKey", "openclaw-key");
    assert.equal(
      sshKey.inputs["publicKey"],
      (stackValue("prod", "hcloud") as { publicKey: string }).publicKey,
    );
    assert.equal((serverInputs["sshKeys"] as string[]).length, 1);
    assert.deepEqual(serverInputs["publicNets"], [{ ipv4Enabled: true, ipv6Enabled: true }]);
    assert.equal(serverInputs["image"], "ubuntu-24.04");
    assert.equal(serverInputs["serverType"], "cx23");
    assert.equal(serverInputs["userData"], undefined);
    await assertHardening(server, "prod", "198.51.100.20", 22, "root");
    assert.deepEqual(outputs["firewallLayers"], ["hcloud-firewall", "ufw"]);
    assert.equal(outputs["publicIpv6"], "2001:db8:20::1");
    assertKeyOnlyInConnections(outputs);
  });
});

describe("invalid config", () => {
  for (const [label, overrides, key] of [
    [
      "an invalid CIDR",
      { "openclaw:firewall": { ssh: { adminCidrs: ["10.0.0.5/24"] } } },
      "openclaw:firewall.ssh.adminCidrs[0]",
    ],
    [
      "shell characters in a name",
      {
        "openclaw:firewall": {
          ssh: { adminCidrs: ["192.0.2.1"] },
          services: [{ name: "x;reboot", port: 1, sources: ["192.0.2.0/24"] }],
        },
      },
      "openclaw:firewall.services[0].name",
    ],
    ["an unknown target", { "openclaw:target": "gcp" }, "openclaw:target"],
    [
      "a state directory with shell characters",
      { "openclaw:hardening": { stateDir: "/var/lib/x'; reboot #" } },
      "openclaw:hardening.stateDir",
    ],
  ] as const) {
    test(`${label} fails before any resource is registered`, () => {
      useStackConfig("home", KEY, overrides);
      assert.throws(runStack, (e: unknown) => e instanceof PolicyError && e.problems[0]!.key === key);
      assert.deepEqual(registrations, []);
    });
  }
  test("the component itself validates, naming the resource in the key", () => {
    assert.throws(
      () =>
        new OpenClawServer("edge", {
          firewall: { ssh: { adminCidrs: [] } },
          target: { kind: "existing", address: "192.0.2.10" },
          ssh: { user: "admin", privateKey: KEY },
        }),
      (e: unknown) => e instanceof PolicyError && e.problems[0]!.key === "edge.firewall.ssh.adminCidrs",
    );
    assert.deepEqual(registrations, []);
  });
});

describe("hardening options", () => {
  test("reach the scripts and the connection; the defaults are the documented ones", async () => {
    const hardening = { rollbackAfter: 30, stateDir: "/srv/openclaw", perDialTimeout: 5, timeout: "3m" };
    useStackConfig("home", KEY, { "openclaw:hardening": hardening });
    await deploy();
    const policy = parsePolicy(stackFirewall("home")).policy;
    const converge = find("command:remote:Command", "openclaw-harden");
    assert.equal(converge.inputs["stdin"], renderConvergeScript(policy, hardening));
    assert.match(String(converge.inputs["stdin"]), /^STATE='\/srv\/openclaw'\nROLLBACK_AFTER='30'$/m);
    assert.equal(
      (unwrapSecret(converge.inputs["connection"]).value as { perDialTimeout: number }).perDialTimeout,
      5,
    );
    assert.equal(
      find("command:remote:Command", "openclaw-verify").inputs["stdin"],
      renderVerifyScript(policy, hardening),
    );
  });
});

describe("a policy change", () => {
  test("changes only the hardening's stdin, so it re-runs as an update on the same host", async () => {
    useStackConfig("home", KEY);
    await deploy();
    const before = find("command:remote:Command", "openclaw-harden").inputs;
    reset();
    const firewall = stackFirewall("home") as { services: { sources: string[] }[] };
    firewall.services[0]!.sources = ["192.168.1.0/24", "192.168.2.0/24"];
    useStackConfig("home", KEY, { "openclaw:firewall": firewall });
    await deploy();
    const after = find("command:remote:Command", "openclaw-harden").inputs;
    assert.notEqual(after["stdin"], before["stdin"]);
    assert.match(String(after["stdin"]), /from 192\.168\.2\.0\/24 to any port 8000 proto tcp/);
    assert.deepEqual(after["triggers"], before["triggers"]);
    assert.equal(after["create"], before["create"]);
  });
});

test("config is read from the stack (sanity: setConfig replaces, not merges)", () => {
  setConfig({ "openclaw:target": "existing" });
  assert.equal(new pulumi.Config("openclaw").get("sshUser"), undefined);
});
