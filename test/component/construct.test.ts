// OpenClawServer as another language uses it: the Pulumi YAML program's inputs in
// docs/multi-language.md (`<!-- program: yaml-program -->`), sent
// as plain JSON through the component provider's construct(), the way `pulumi package add`
// serves it, must register exactly what the TypeScript constructor registers for the same config.
import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { type Registration, promiseOf, recordParents, registrations, reset } from "../support/pulumi/mocks";
import { type OpenClawServerArgs, OpenClawServer } from "../../components/OpenClawServer";
import { PolicyError, type PolicyProblem } from "../../components/policy/errors";
import { componentProvider, providerName } from "../../bin/schema";
import { docProgram } from "../support/markdown";

const ROOT = path.join(__dirname, "..", "..");
const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nCONSTRUCTKEY-41c2\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConstructConstructConstructConst0 yaml@example";
const TYPE = `${providerName()}:index:OpenClawServer`;
const OUTPUTS = [
  "publicIpv4",
  "publicIpv6",
  "sshCommand",
  "sshHostKey",
  "sshHostKeyFingerprint",
  "cloudFirewallId",
  "firewallLayers",
  "admittedTraffic",
  "hostFirewallStatus",
  "gatewayUrl",
  "sshTunnelCommand",
  "gatewayToken",
  "openclawVersion",
] as const;

interface YamlProgram {
  resources: Record<string, { type: string; properties: Record<string, unknown> }>;
}

/** The docs' Pulumi YAML program's OpenClawServer resource. */
function yamlProgram(): { name: string; type: string; properties: Record<string, unknown> } {
  const program = parseYaml(docProgram(ROOT, "yaml-program").text) as YamlProgram;
  const found = Object.entries(program.resources).filter(([, r]) => r.type.endsWith(":OpenClawServer"));
  assert.equal(found.length, 1, "the Pulumi YAML program has one OpenClawServer");
  const [name, r] = found[0]!;
  return { name, ...r };
}

/** What the YAML runtime sends for `${sshPublicKey}` and `${sshPrivateKey}`: the config's values. */
function interpolate(value: unknown): unknown {
  if (value === "${sshPublicKey}") return PUBLIC_KEY;
  if (value === "${sshPrivateKey}") return PRIVATE_KEY;
  if (Array.isArray(value)) return value.map(interpolate);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

// The same server written as a TypeScript program writes it.
const TYPESCRIPT_ARGS: OpenClawServerArgs = {
  firewall: {
    ssh: { adminCidrs: ["198.51.100.10/32", "2001:db8:2000::10/128"] },
    services: [
      {
        name: "openclaw-https",
        description: "the gateway over HTTPS, through Caddy",
        port: 443,
        sources: ["198.51.100.0/24"],
      },
      { name: "agent-tools", portRanges: ["18800-18810"], protocol: "udp", sources: ["198.51.100.0/24"] },
    ],
    logging: "low",
  },
  hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC_KEY },
  ssh: { privateKey: pulumi.secret(PRIVATE_KEY) },
  openclaw: { https: { domain: "gateway.example.com", email: "ops@example.com" } },
  hardening: { rollbackAfter: 60, sshdSettings: { MaxAuthTries: "3" } },
};

const provider = componentProvider();
const opts = { transformations: [recordParents] };

async function settle(server: OpenClawServer): Promise<Record<string, unknown>> {
  return (await promiseOf(pulumi.output(Object.fromEntries(OUTPUTS.map((o) => [o, server[o]]))))) as Record<
    string,
    unknown
  >;
}

/** Registrations comparable across two runs: each as JSON (its secrets still marked), in a stable order. */
const comparable = (rs: readonly Registration[]) => rs.map((r) => JSON.stringify(r)).sort();

beforeEach(reset);

describe("construct() with the docs' Pulumi YAML inputs", () => {
  const yaml = yamlProgram();

  test("the Pulumi YAML program uses this package's type token", () => {
    assert.equal(yaml.type, TYPE);
  });

  test("registers the same resources, with the same inputs, parents and outputs, as the TypeScript constructor", async () => {
    const fromTs = new OpenClawServer(yaml.name, TYPESCRIPT_ARGS, opts);
    const tsOutputs = await settle(fromTs);
    const tsRegistrations = comparable(registrations);
    reset();

    // Plain JSON: no Outputs, no TypeScript types, nothing a YAML or Python program cannot send.
    const inputs = JSON.parse(JSON.stringify(interpolate(yaml.properties))) as pulumi.Inputs;
    const result = await provider.construct(yaml.name, TYPE, inputs, opts);
    const state = (await promiseOf(pulumi.output(result.state))) as Record<string, unknown>;
    // The component registered the type construct() was asked for, so the engine's URN for it holds.
    assert.equal(
      await promiseOf(pulumi.output(result.urn)),
      `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${TYPE}::${yaml.name}`,
    );

    assert.ok(registrations.length > 5, `only ${registrations.length} resources registered`);
    assert.deepEqual(comparable(registrations), tsRegistrations);
    assert.deepEqual(Object.keys(state).sort(), [...OUTPUTS].sort());
    assert.deepEqual(state, tsOutputs);
  });
});

describe("construct() refuses bad inputs with the constructor's keyed errors, before any child", () => {
  const base = () => interpolate(yamlProgram().properties) as Record<string, unknown>;
  const firewall = () => base()["firewall"] as Record<string, unknown>;
  for (const [label, patch, keys] of [
    ["two targets", { existing: { address: "192.0.2.10" } }, ["edge"]],
    ["no target", { hcloud: undefined }, ["edge"]],
    [
      "a port outside 1-65535",
      { firewall: { ...firewall(), services: [{ name: "x", port: 0, sources: ["192.0.2.0/24"] }] } },
      ["edge.firewall.services[0].port"],
    ],
    [
      "an sshd setting that undoes the hardening",
      { hardening: { sshdSettings: { Match: "all" } } },
      ["edge.hardening.sshdSettings.Match"],
    ],
  ] as const) {
    test(label, async () => {
      const inputs = JSON.parse(JSON.stringify({ ...base(), ...patch })) as Record<string, unknown>;
      let direct: readonly PolicyProblem[] = [];
      assert.throws(
        () => new OpenClawServer("edge", inputs as never),
        (e: unknown) => e instanceof PolicyError && ((direct = e.problems), true),
      );
      await assert.rejects(provider.construct("edge", TYPE, inputs, {}), (e: unknown) => {
        assert.ok(e instanceof PolicyError, String(e));
        assert.deepEqual(
          e.problems.map((p) => p.key),
          keys,
        );
        assert.deepEqual(e.problems, direct);
        return true;
      });
      // The component registers itself first (super()); no child follows it.
      assert.deepEqual(
        registrations.filter((r) => r.type !== "openclaw-server:index:OpenClawServer"),
        [],
      );
    });
  }
});
