import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { promiseOf, registrations, reset, setConfig } from "../support/pulumi/mocks";

test("the fleet example registers distinct names for every instance in one stack", async () => {
  reset();
  setConfig({
    "fleet:sshPrivateKey":
      "-----BEGIN OPENSSH PRIVATE KEY-----\nFLEETKEY\n-----END OPENSSH PRIVATE KEY-----\n",
    "fleet:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFleet fleet@example",
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fleet = require("../../examples/fleet") as typeof import("../../examples/fleet");
  // The last step of every server: once verified, all of its resources have registered.
  await promiseOf(pulumi.all([...fleet.servers, fleet.office].map((s) => s.hostFirewallStatus)));
  assert.deepEqual(await promiseOf(fleet.sshCommands), [
    "ssh -p 22 root@198.51.100.20",
    "ssh -p 22 root@198.51.100.20",
    "ssh -p 22 ops@192.168.10.5",
  ]);
  const urns = registrations.map((r) => `${r.type}::${r.name}`);
  assert.equal(new Set(urns).size, urns.length, `duplicate names: ${urns.join(", ")}`);
  for (const prefix of ["agent-eu", "agent-us"]) {
    for (const suffix of [
      "firewall",
      "server",
      "wait-ssh",
      "host-key",
      "authorize-key",
      "harden",
      "verify",
      "confirm",
    ]) {
      assert.ok(
        registrations.some((r) => r.name === `${prefix}-${suffix}`),
        `${prefix}-${suffix} registered`,
      );
    }
  }
  // Hetzner holds a public key once per project (uniqueness_error): one SshKey per distinct key
  // in the program, which both servers launch with, by its fixed name.
  const keys = registrations.filter((r) => r.type === "hcloud:index/sshKey:SshKey");
  assert.deepEqual(
    keys.map((k) => k.inputs["name"]),
    ["fleet-test-deploy"],
  );
  assert.equal(
    new Set(keys.map((k) => String(k.inputs["publicKey"]).split(" ").slice(0, 2).join(" "))).size,
    keys.length,
  );
  for (const server of registrations.filter((r) => r.type === "hcloud:index/server:Server"))
    assert.deepEqual(server.inputs["sshKeys"], ["fleet-test-deploy"], server.name);
  assert.deepEqual(
    registrations.filter((r) => r.name.startsWith("office")).map((r) => r.name),
    ["office", "office-wait-ssh", "office-host-key", "office-harden", "office-verify", "office-confirm"],
  );
});
