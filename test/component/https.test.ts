// openclaw.https under mocks: every layer the component registers (AWS security group, Hetzner
// firewall, UFW through the hardening's stdin) and the admitted-traffic output get 443 from the
// openclaw-https sources and 80/tcp from anywhere, and nothing on the gateway's port; gatewayUrl
// is https://<domain>/. Without https, no layer admits 80.
import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { promiseOf, recordParents, registrations, reset, type Registration } from "../support/pulumi/mocks";
import { OpenClawServer, type OpenClawServerArgs } from "../../components/OpenClawServer";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nHTTPSTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpenClawOpenClawOpenClawOpenCl0 oc@example";
const HTTPS = { domain: "GW.Example.NET.", email: "ops@example.net" };
const OFFICE = ["198.51.100.0/24", "2001:db8:2000::/48"];

const firewall = (https: boolean) => ({
  ssh: { adminCidrs: ["198.51.100.10/32"] },
  services: https ? [{ name: "openclaw-https", port: 443, sources: OFFICE }] : [],
});
const TARGETS = {
  aws: { aws: { instanceType: "t3.small", publicKey: PUBLIC } },
  hcloud: { hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC } },
  existing: { existing: { address: "192.0.2.10" } },
} as const;
const args = (target: keyof typeof TARGETS, https = true): OpenClawServerArgs => ({
  firewall: firewall(https),
  ...TARGETS[target],
  ssh: { user: "admin", privateKey: KEY },
  openclaw: { enabled: true, ...(https ? { https: HTTPS } : {}) },
});

async function build(a: OpenClawServerArgs) {
  const server = new OpenClawServer("edge", a, { transformations: [recordParents] });
  const outputs = await promiseOf(
    pulumi.output({
      gatewayUrl: server.gatewayUrl,
      sshTunnelCommand: server.sshTunnelCommand,
      admittedTraffic: server.admittedTraffic,
      // Awaited so that every step has registered.
      hostFirewallStatus: server.hostFirewallStatus,
      openclawVersion: server.openclawVersion,
    }),
  );
  return { server, outputs };
}

const step = (name: string): Registration => {
  const r = registrations.find((x) => x.type === "command:remote:Command" && x.name === name);
  assert.ok(r, `no ${name}`);
  return r;
};

/** What UFW is told: the hardening's converge and verify scripts, plain text on their stdin. */
function ufwRules(): string[] {
  return [step("edge-harden"), step("edge-verify")].map((s) => String(s.inputs["stdin"]));
}

/** The security group's ingress rules as `proto port cidr`. */
function awsIngress(): string[] {
  return registrations
    .filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .map(
      (r) =>
        `${String(r.inputs["ipProtocol"])} ${String(r.inputs["fromPort"])}-${String(r.inputs["toPort"])} ${String(r.inputs["cidrIpv4"] ?? r.inputs["cidrIpv6"])}`,
    )
    .sort();
}

/** The Hetzner firewall's in rules as `proto port sources`. */
function hcloudIn(): string[] {
  const fw = registrations.find((r) => r.type === "hcloud:index/firewall:Firewall");
  assert.ok(fw, "no Hetzner firewall");
  return (
    fw.inputs["rules"] as { direction: string; protocol: string; port?: string; sourceIps?: string[] }[]
  )
    .filter((r) => r.direction === "in")
    .map((r) => `${r.protocol} ${r.port} ${(r.sourceIps ?? []).join(",")}`);
}

beforeEach(() => reset());

describe("with openclaw.https, every layer admits 443 from its sources and 80 from anyone", () => {
  test("aws: the security group, UFW and the table; gatewayUrl is https://<domain>/", async () => {
    const { server, outputs } = await build(args("aws"));
    assert.deepEqual(awsIngress(), [
      "tcp 22-22 198.51.100.10/32",
      "tcp 443-443 198.51.100.0/24",
      "tcp 443-443 2001:db8:2000::/48",
      "tcp 80-80 0.0.0.0/0",
      "tcp 80-80 ::/0",
    ]);
    for (const script of ufwRules()) {
      assert.match(script, /^ufw allow 80\/tcp comment 'openclaw:openclaw-acme-http'$/m);
      assert.match(
        script,
        /^ufw allow from 198\.51\.100\.0\/24 to any port 443 proto tcp comment 'openclaw:openclaw-https'$/m,
      );
      assert.doesNotMatch(script, /port 18789/);
    }
    assert.match(outputs.admittedTraffic, /^openclaw-acme-http +tcp +80 +IPv4 +0\.0\.0\.0\/0 \(anyone\)/m);
    assert.match(outputs.admittedTraffic, /^openclaw-acme-http +tcp +80 +IPv6 +::\/0 \(anyone\)/m);
    assert.match(outputs.admittedTraffic, /port 80 serves ACME's HTTP-01 challenge/);
    assert.equal(outputs.gatewayUrl, "https://gw.example.net/");
    // The tunnel still reaches the gateway on loopback, for the operator's own SSH access.
    assert.match(String(outputs.sshTunnelCommand), /^ssh -N -L 18789:127\.0\.0\.1:18789 /);
    assert.ok(server.policy.services.some((s) => s.name === "openclaw-acme-http"));
  });

  test("hcloud: the Hetzner firewall and UFW", async () => {
    const { outputs } = await build(args("hcloud"));
    assert.deepEqual(hcloudIn(), [
      "tcp 22 198.51.100.10/32",
      "tcp 80 0.0.0.0/0,::/0",
      "tcp 443 198.51.100.0/24,2001:db8:2000::/48",
    ]);
    for (const script of ufwRules())
      assert.match(script, /^ufw allow 80\/tcp comment 'openclaw:openclaw-acme-http'$/m);
    assert.equal(outputs.gatewayUrl, "https://gw.example.net/");
  });

  test("existing: UFW alone, and the same URL", async () => {
    const { outputs } = await build(args("existing"));
    for (const script of ufwRules())
      assert.match(script, /^ufw allow 80\/tcp comment 'openclaw:openclaw-acme-http'$/m);
    assert.equal(outputs.gatewayUrl, "https://gw.example.net/");
  });
});

describe("without openclaw.https nothing opens 80", () => {
  test("aws and hcloud: no rule for 80; the gateway on loopback through the tunnel", async () => {
    const { outputs } = await build(args("aws", false));
    assert.ok(!awsIngress().some((r) => / 80-80 /.test(r)), awsIngress().join("; "));
    for (const script of ufwRules())
      assert.doesNotMatch(script, /openclaw-acme-http|ufw allow 80\/tcp|port 80 /);
    assert.doesNotMatch(outputs.admittedTraffic, /openclaw-acme-http/);
    assert.equal(outputs.gatewayUrl, "http://127.0.0.1:18789");
    reset();
    await build(args("hcloud", false));
    assert.ok(!hcloudIn().some((r) => r.startsWith("tcp 80 ")), hcloudIn().join("; "));
  });
});
