import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  HOST_KEYS,
  invokes,
  lookups,
  promiseOf,
  recordParents,
  registrations,
  reset,
  setConfig,
  unwrapSecret,
  useStackConfig,
  type Registration,
} from "../support/pulumi/mocks";
import { OpenClawServer } from "../../components/OpenClawServer";
import { runStack } from "../../components/stack/program";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { renderAwsRules } from "../../components/cloud/awsRules";
import { renderHcloudRules } from "../../components/cloud/hcloudRules";
import {
  REMOTE_SHELL,
  renderConfirmScript,
  renderConvergeScript,
  renderVerifyScript,
} from "../../components/hardening/script";
import { WAIT_FOR_SSH_SCRIPT } from "../../components/ssh/wait";
import { readStackFile } from "../../components/stack/stackFile";
import { parseStackSettings } from "../../components/stack/settings";
import * as path from "node:path";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEYMATERIAL-7f3a9c\n-----END OPENSSH PRIVATE KEY-----\n";
const COMPONENT = "openclaw-server:index:OpenClawServer";
const PARENT = `${COMPONENT}::openclaw`;
const stackValue = (stack: string, key: string) =>
  readStackFile(path.join(__dirname, "..", "..", "stacks"), stack)(key);
const stackFirewall = (stack: string) => stackValue(stack, "firewall");
/** The policy every layer renders: the stack's, with what openclaw.https adds to it. */
const stackPolicy = (stack: string) =>
  parseStackSettings(readStackFile(path.join(__dirname, "..", "..", "stacks"), stack)).policy;

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
      gatewayUrl: server.gatewayUrl,
      sshTunnelCommand: server.sshTunnelCommand,
      gatewayToken: server.gatewayToken,
      openclawVersion: server.openclawVersion,
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
  const policy = stackPolicy(stack);
  const converge = find("command:remote:Command", "openclaw-harden");
  const verify = find("command:remote:Command", "openclaw-verify");
  const keyStep = registrations.find((r) => r.name === "openclaw-authorize-key");
  const confirm = find("command:remote:Command", "openclaw-confirm");
  for (const step of [...(keyStep ? [keyStep] : []), converge, verify, confirm]) {
    assert.equal(step.parent, PARENT);
    if (step !== keyStep) {
      assert.equal(step.inputs["create"], REMOTE_SHELL);
      assert.equal(step.inputs["update"], REMOTE_SHELL);
    }
    // A small dial limit: the wait step has seen sshd answer, so a failing login is not a boot.
    assert.deepEqual(
      { ...(unwrapSecret(step.inputs["connection"]).value as object), privateKey: "(checked separately)" },
      {
        host,
        port,
        user,
        privateKey: "(checked separately)",
        dialErrorLimit: 11,
        perDialTimeout: 15,
        // The key the first contact took (test/component/hostKey.test.ts).
        hostKey: HOST_KEYS.first,
      },
    );
  }
  // The wait step runs on the deployer before any SSH step, for the same host, port and user.
  const wait = find("command:local:Command", "openclaw-wait-ssh");
  assert.equal(wait.parent, PARENT);
  assert.equal(wait.inputs["create"], "node");
  assert.equal(wait.inputs["stdin"], WAIT_FOR_SSH_SCRIPT);
  assert.deepEqual(wait.inputs["environment"], {
    OPENCLAW_SSH_HOST: host,
    OPENCLAW_SSH_PORT: String(port),
    OPENCLAW_SSH_USER: user,
    OPENCLAW_WAIT_SECONDS: "600",
  });
  assert.ok(converge.options!.dependsOn.includes("openclaw-wait-ssh"), "harden waits for sshd");
  if (keyStep) {
    assert.deepEqual(keyStep.options!.dependsOn, ["openclaw-wait-ssh"]);
    assert.ok(converge.options!.dependsOn.includes("openclaw-authorize-key"));
  }
  assert.deepEqual(verify.options!.dependsOn, ["openclaw-harden"]);
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
        "command:local:Command::openclaw-wait-ssh",
        "command:local:Command::openclaw-host-key",
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
    const policy = stackPolicy("dev");
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
        "command:local:Command::openclaw-wait-ssh",
        "command:local:Command::openclaw-host-key",
        "command:remote:Command::openclaw-authorize-key",
        "command:remote:Command::openclaw-harden",
        "command:remote:Command::openclaw-verify",
        "command:remote:Command::openclaw-confirm",
        // OpenClaw, on by default on a cloud target (test/component/openclaw.test.ts).
        "random:index/randomPassword:RandomPassword::openclaw-gateway-token",
        "command:remote:Command::openclaw-openclaw-remove",
        "command:remote:Command::openclaw-openclaw",
        "command:remote:Command::openclaw-openclaw-verify",
        // The dev stack reaches the gateway over HTTPS (test/component/proxy.test.ts).
        "command:remote:Command::openclaw-proxy",
        "command:remote:Command::openclaw-proxy-verify",
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
    assert.ok(rules.some((r) => r.cidrIpv6 === "2001:db8:1000::/48" && r.fromPort === 22));
    // The dev stack's gateway is behind the proxy: 443 from the office, 80 from anyone (ACME
    // HTTP-01 and the redirect), the gateway's own port from no one.
    assert.ok(rules.some((r) => r.cidrIpv4 === "198.51.100.0/24" && r.fromPort === 443));
    for (const world of [{ cidrIpv4: "0.0.0.0/0" }, { cidrIpv6: "::/0" }]) {
      assert.ok(
        rules.some(
          (r) =>
            r.direction === "ingress" &&
            r.fromPort === 80 &&
            r.toPort === 80 &&
            r.ipProtocol === "tcp" &&
            (r.cidrIpv4 ?? r.cidrIpv6) === Object.values(world)[0],
        ),
        `80/tcp from ${JSON.stringify(world)}`,
      );
    }
    assert.ok(!rules.some((r) => r.fromPort !== undefined && r.fromPort <= 18789 && 18789 <= r.toPort!));
    assert.equal(outputs["gatewayUrl"], "https://openclaw.dev.example.com/");
    assert.match(
      String(outputs["admittedTraffic"]),
      /^openclaw-acme-http +tcp +80 +IPv4 +0\.0\.0\.0\/0 \(anyone\)/m,
    );
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
    assert.equal(instance["keyName"], "openclaw-test-openclaw");
    assert.equal(find("aws:ec2/keyPair:KeyPair", "openclaw-key").inputs["keyName"], "openclaw-test-openclaw");
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
        "command:local:Command::openclaw-wait-ssh",
        "command:local:Command::openclaw-host-key",
        "command:remote:Command::openclaw-authorize-key",
        "command:remote:Command::openclaw-harden",
        "command:remote:Command::openclaw-verify",
        "command:remote:Command::openclaw-confirm",
        // OpenClaw, on by default on a cloud target (test/component/openclaw.test.ts).
        "random:index/randomPassword:RandomPassword::openclaw-gateway-token",
        "command:remote:Command::openclaw-openclaw-remove",
        "command:remote:Command::openclaw-openclaw",
        "command:remote:Command::openclaw-openclaw-verify",
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
    // By the key's fixed name, which Hetzner accepts as well as an id.
    assert.deepEqual(serverInputs["sshKeys"], ["openclaw-test-openclaw"]);
    assert.equal(sshKey.inputs["name"], "openclaw-test-openclaw");
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
          existing: { address: "192.0.2.10" },
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
  setConfig({ "openclaw:target": "existing", "openclaw:sshUser": "admin" });
  assert.equal(new pulumi.Config("openclaw").get("sshUser"), "admin");
  setConfig({ "openclaw:target": "aws" });
  assert.equal(new pulumi.Config("openclaw").get("target"), "aws");
  // Set a moment ago, gone now: a test's config never leaks into the next one.
  assert.equal(new pulumi.Config("openclaw").get("sshUser"), undefined);
});

describe("a deploy after a new Ubuntu image and a rotated key replaces no VM", () => {
  const NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRotatedRotatedRotatedRotatedRotated0 new@example";
  // Inputs whose change makes the provider replace the VM instead of updating it: ForceNew in
  // the Terraform providers these Pulumi providers bridge (aws_instance, hcloud_server; for
  // hcloud's sshKeys the type docs say so too). rootBlockDevice holds a ForceNew `encrypted`.
  const AWS_FORCES_NEW = [
    "ami",
    "keyName",
    "subnetId",
    "associatePublicIpAddress",
    "availabilityZone",
    "privateIp",
    "tenancy",
    "placementGroup",
    "networkInterfaces",
    "ebsBlockDevices",
    "launchTemplate",
    "rootBlockDevice",
  ];
  const HCLOUD_FORCES_NEW = ["image", "location", "datacenter", "sshKeys", "userData"];

  /**
   * Every replacing input is unchanged and known when the program runs, or ignored by the
   * resource (which then keeps its state's value). An Output from a resource that is itself
   * replaced (a key) is unknown in the preview, which then shows the VM replaced.
   */
  function assertNotReplaced(before: Registration, after: Registration, forcesNew: string[]): void {
    for (const input of forcesNew) {
      if (after.options?.ignoreChanges?.includes(input)) continue;
      assert.deepEqual(
        after.inputs[input],
        before.inputs[input],
        `${input} changed: ${after.name} would be replaced`,
      );
      assert.ok(!after.options!.outputInputs.includes(input), `${input} of ${after.name} is an Output`);
    }
  }

  /** The rotated key reaches the running host: same host (triggers), new key on stdin. */
  function assertKeyDelivered(before: Registration, after: Registration): void {
    assert.deepEqual(after.inputs["triggers"], before.inputs["triggers"]);
    assert.ok(String(after.inputs["stdin"]).includes(NEW_KEY));
    assert.ok(!String(before.inputs["stdin"]).includes(NEW_KEY));
    assert.ok(!String(after.inputs["create"]).includes("ssh-ed25519"), "the key travels on stdin");
  }

  test("AWS: the image found at creation is kept; the key pair is replaced under the same name", async () => {
    useStackConfig("dev", KEY);
    await deploy();
    const before = find("aws:ec2/instance:Instance", "openclaw-instance");
    const pairBefore = find("aws:ec2/keyPair:KeyPair", "openclaw-key");
    const keyStepBefore = find("command:remote:Command", "openclaw-authorize-key");
    reset();
    lookups.ami = "ami-0fedcba9876543210"; // Canonical published a newer image
    const aws = stackValue("dev", "aws") as Record<string, unknown>;
    useStackConfig("dev", KEY, { "openclaw:aws": { ...aws, publicKey: NEW_KEY } });
    await deploy();
    const after = find("aws:ec2/instance:Instance", "openclaw-instance");
    // The lookup did answer differently, and the instance ignores it: the image it was created
    // from stays, even through a replacement for another reason.
    assert.equal(before.inputs["ami"], "ami-0123456789abcdef0");
    assert.equal(after.inputs["ami"], "ami-0fedcba9876543210");
    assert.deepEqual(after.options?.ignoreChanges, ["ami"]);
    assertNotReplaced(before, after, AWS_FORCES_NEW);
    // A new public key replaces the pair (its publicKey forces a new one), not the instance: the
    // pair's name is fixed, so it is deleted first and the instance's keyName is unchanged.
    const pairAfter = find("aws:ec2/keyPair:KeyPair", "openclaw-key");
    assert.notEqual(pairAfter.inputs["publicKey"], pairBefore.inputs["publicKey"]);
    assert.equal(pairAfter.inputs["keyName"], pairBefore.inputs["keyName"]);
    assert.equal(pairAfter.options?.deleteBeforeReplace, true);
    assertKeyDelivered(keyStepBefore, find("command:remote:Command", "openclaw-authorize-key"));
  });

  test("AWS: an ami set in the config is never ignored: that is how to ask for another image", async () => {
    const aws = stackValue("dev", "aws") as Record<string, unknown>;
    useStackConfig("dev", KEY, { "openclaw:aws": { ...aws, ami: "ami-0abc1234" } });
    await deploy();
    const instance = find("aws:ec2/instance:Instance", "openclaw-instance");
    assert.equal(instance.inputs["ami"], "ami-0abc1234");
    assert.equal(instance.options?.ignoreChanges, undefined);
  });

  test("Hetzner: the server names its key by a fixed name; a new key replaces only the key", async () => {
    useStackConfig("prod", KEY);
    await deploy();
    const before = find("hcloud:index/server:Server", "openclaw-server");
    const keyBefore = find("hcloud:index/sshKey:SshKey", "openclaw-key");
    const keyStepBefore = find("command:remote:Command", "openclaw-authorize-key");
    reset();
    const hc = stackValue("prod", "hcloud") as Record<string, unknown>;
    useStackConfig("prod", KEY, { "openclaw:hcloud": { ...hc, publicKey: NEW_KEY } });
    await deploy();
    const after = find("hcloud:index/server:Server", "openclaw-server");
    assertNotReplaced(before, after, HCLOUD_FORCES_NEW);
    // Hetzner resolves the image name when the server is created; the name itself is unchanged.
    assert.equal(after.inputs["image"], "ubuntu-24.04");
    const keyAfter = find("hcloud:index/sshKey:SshKey", "openclaw-key");
    assert.notEqual(keyAfter.inputs["publicKey"], keyBefore.inputs["publicKey"]);
    assert.equal(keyAfter.inputs["name"], keyBefore.inputs["name"]);
    assert.equal(keyAfter.options?.deleteBeforeReplace, true);
    assertKeyDelivered(keyStepBefore, find("command:remote:Command", "openclaw-authorize-key"));
  });
});

describe("OpenClawServer used from another program validates its own args", () => {
  const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIValidationValidationValidation0 v@example";
  const valid = (): Record<string, unknown> => ({
    firewall: { ssh: { adminCidrs: ["198.51.100.10/32"] } },
    hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
    ssh: { privateKey: KEY },
  });
  const existing = (patch: Record<string, unknown>) => ({
    ...valid(),
    hcloud: undefined,
    existing: { address: "192.0.2.10", ...patch },
    ssh: { user: "admin", privateKey: KEY },
  });
  for (const [label, args, key, header] of [
    ["a missing ssh", { ...valid(), ssh: undefined }, "edge.ssh", "SSH login configuration"],
    [
      "a firewall that is an Output",
      { ...valid(), firewall: pulumi.output(valid()["firewall"]) },
      "edge.firewall",
      "firewall configuration",
    ],
    [
      "ssh.port 2222 on a cloud target (its sshd listens on 22)",
      { ...valid(), firewall: { ssh: { port: 2222, adminCidrs: ["198.51.100.10/32"] } } },
      "edge.firewall.ssh.port",
      "firewall configuration",
    ],
    [
      "a login name with a space",
      { ...valid(), ssh: { user: "bad user", privateKey: KEY } },
      "edge.ssh.user",
      "SSH login configuration",
    ],
    [
      "a host key that is not one",
      { ...valid(), ssh: { privateKey: KEY, hostKey: "AAAA; reboot" } },
      "edge.ssh.hostKey",
      "SSH login configuration",
    ],
    [
      "an existing host without a user",
      { ...existing({}), ssh: { privateKey: KEY } },
      "edge.ssh.user",
      "SSH login configuration",
    ],
    [
      "a router that forwards nothing",
      existing({ router: { address: "192.0.2.1", forwards: [], masquerade: false } }),
      "edge.existing.router.forwards",
      "router configuration",
    ],
    [
      "a rollback window under the minimum",
      { ...valid(), hardening: { rollbackAfter: 1 } },
      "edge.hardening.rollbackAfter",
      "hardening options",
    ],
    [
      "a Hetzner target with neither publicKey nor sshKey",
      { ...valid(), hcloud: { serverType: "cx23", location: "fsn1" } },
      "edge.hcloud.publicKey",
      "target configuration",
    ],
    ["no target", { ...valid(), hcloud: undefined }, "edge", "configuration"],
    ["two targets", { ...valid(), existing: { address: "192.0.2.10" } }, "edge", "configuration"],
    ["a target that is not an object", { ...valid(), hcloud: "cx23" }, "edge.hcloud", "target configuration"],
    [
      "a kind inside a target block (the old args' shape)",
      { ...valid(), hcloud: { ...valid()["hcloud"]!, kind: "hcloud" } },
      "edge.hcloud.kind",
      "target configuration",
    ],
  ] as const) {
    test(`${label}: a keyed error, "Invalid ${header}", before any child`, () => {
      assert.throws(
        () => new OpenClawServer("edge", args as never),
        (e: unknown) => {
          assert.ok(e instanceof PolicyError, `expected a PolicyError, got ${String(e)}`);
          assert.deepEqual(
            e.problems.map((p) => p.key),
            [key],
          );
          assert.ok(e.message.startsWith(`Invalid ${header} (1 problem):`), e.message);
          assert.ok(!e.message.includes("TESTKEYMATERIAL"), "the private key is never echoed");
          return true;
        },
      );
      assert.deepEqual(registrations, []);
    });
  }

  test("problems of several kinds are all listed, under a plain header", () => {
    assert.throws(
      () =>
        new OpenClawServer("edge", {
          ...valid(),
          ssh: { user: "Bad", privateKey: KEY },
          hardening: { timeout: "soon" },
        } as never),
      (e: unknown) =>
        e instanceof PolicyError &&
        e.message.startsWith("Invalid configuration (2 problems):") &&
        e.problems.map((p) => p.key).join() === "edge.ssh.user,edge.hardening.timeout",
    );
  });

  test("a second Hetzner server with the same public key is refused before it registers a child", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISharedSharedSharedSharedShared0";
    const first = new OpenClawServer("first", {
      ...valid(),
      hcloud: { serverType: "cx23", location: "fsn1", publicKey: `${key} a@example` },
    } as never);
    await promiseOf(pulumi.all([first.hostFirewallStatus, first.openclawVersion]));
    const before = registrations.length;
    assert.throws(
      () =>
        new OpenClawServer("second", {
          ...valid(),
          hcloud: { serverType: "cx23", location: "ash", publicKey: `${key} b@example` },
        } as never),
      (e: unknown) =>
        e instanceof PolicyError &&
        e.problems[0]!.key === "second.hcloud.publicKey" &&
        e.message.includes("first") &&
        e.message.includes("hcloud.sshKey"),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      registrations.slice(before).map((r) => r.name),
      ["second"],
      "only the component itself, no child",
    );
  });
});
