// The server the docs' programs in other languages declare (docs/multi-language.md: YAML, Go),
// written as the TypeScript constructor takes it, and how to compare what two ways of declaring
// it register: their inputs, sent through construct() as `pulumi package add` serves them, must
// register exactly what this registers.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { type Registration, promiseOf, recordParents, registrations, reset } from "./mocks";
import { type OpenClawServerArgs, OpenClawServer } from "../../../components/OpenClawServer";
import { componentProvider, providerName } from "../../../bin/schema";

export const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nCONSTRUCTKEY-41c2\n-----END OPENSSH PRIVATE KEY-----\n";
export const PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConstructConstructConstructConst0 yaml@example";
export const TYPE = `${providerName()}:index:OpenClawServer`;
export const OUTPUTS = [
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

export const TYPESCRIPT_ARGS: OpenClawServerArgs = {
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

/** The server's outputs, once resolved. */
export async function settle(server: OpenClawServer): Promise<Record<string, unknown>> {
  return (await promiseOf(pulumi.output(Object.fromEntries(OUTPUTS.map((o) => [o, server[o]]))))) as Record<
    string,
    unknown
  >;
}

/** Registrations comparable across two runs: each as JSON (its secrets still marked), in a stable order. */
export const comparable = (rs: readonly Registration[]) => rs.map((r) => JSON.stringify(r)).sort();

/**
 * Asserts that `inputs`, as another language's program sends them, registered through the
 * component provider's construct() under `name`, give the same resources (inputs, parents,
 * options, secrets) and outputs as the TypeScript constructor given TYPESCRIPT_ARGS.
 */
export async function assertConstructMatchesTypeScript(name: string, inputs: pulumi.Inputs): Promise<void> {
  const opts = { transformations: [recordParents] };
  reset();
  const tsOutputs = await settle(new OpenClawServer(name, TYPESCRIPT_ARGS, opts));
  const tsRegistrations = comparable(registrations);
  reset();

  const result = await componentProvider().construct(name, TYPE, inputs, opts);
  const state = (await promiseOf(pulumi.output(result.state))) as Record<string, unknown>;
  // The component registered the type construct() was asked for, so the engine's URN for it holds.
  assert.equal(
    await promiseOf(pulumi.output(result.urn)),
    `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${TYPE}::${name}`,
  );
  assert.ok(registrations.length > 5, `only ${registrations.length} resources registered`);
  assert.deepEqual(comparable(registrations), tsRegistrations);
  assert.deepEqual(Object.keys(state).sort(), [...OUTPUTS].sort());
  assert.deepEqual(state, tsOutputs);
}
