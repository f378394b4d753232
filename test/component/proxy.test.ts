// The HTTPS proxy's steps under mocks: `<name>-proxy` (apply on create and update, remove on
// delete) and `<name>-proxy-verify`, their types, names, parents, inputs, options and order after
// the hardening's confirm and OpenClaw's install; and none of them without `https`.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { promiseOf, recordParents, registrations, reset, unwrapSecret } from "../support/pulumi/mocks";
import { installProxy } from "../../components/proxy/steps";
import { proxyShell, renderProxyScript } from "../../components/proxy/script";
import { OpenClawServer } from "../../components/OpenClawServer";
import type { HttpsSpec } from "../../components/openclaw/types";

const COMMAND = "command:remote:Command";
const PARENT = "test:index:Parent";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nOPENCLAWTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const HTTPS: HttpsSpec = {
  domain: "gateway.example.com",
  email: "ops@example.com",
  acmeDirectory: "https://acme-v02.api.letsencrypt.org/directory",
  caddy: { kind: "distribution" },
  sources: ["198.51.100.0/24"],
};

beforeEach(() => reset());

class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super(PARENT, name, {}, { transformations: [recordParents] });
  }
}

/** The proxy's steps under a parent, after stand-ins for confirm and the OpenClaw install. */
async function build(deletedWith: boolean) {
  const parent = new Parent("edge");
  const connection = {
    host: "192.0.2.10",
    port: 22,
    user: "admin",
    privateKey: pulumi.secret(KEY),
    hostKey: "ssh-ed25519 AAAA",
    dialErrorLimit: 3,
    perDialTimeout: 20,
  };
  const confirm = new command.remote.Command("edge-confirm", { connection, create: "true" }, { parent });
  const openclaw = new command.remote.Command("edge-openclaw", { connection, create: "true" }, { parent });
  const server = new command.remote.Command("edge-server", { connection, create: "true" }, { parent });
  const steps = installProxy(
    "edge",
    {
      connection,
      https: HTTPS,
      gatewayPort: 18789,
      timeout: "10m",
      hostIdentity: [pulumi.output("192.0.2.10:22")],
      confirm,
      openclaw,
      ...(deletedWith ? { deletedWith: server } : {}),
    },
    parent,
  );
  await promiseOf(pulumi.all([steps.proxy.stdout, steps.verify.stdout]));
  const find = (name: string) => {
    const r = registrations.find((x) => x.type === COMMAND && x.name === name);
    assert.ok(r, `no ${name}; registered: ${registrations.map((x) => x.name).join(", ")}`);
    return r;
  };
  return { proxy: find("edge-proxy"), verify: find("edge-proxy-verify"), connection };
}

test("apply, remove and verify: types, names, parents, inputs, options and order", async () => {
  const { proxy, verify } = await build(true);
  const script = renderProxyScript(HTTPS, 18789);
  for (const r of [proxy, verify]) {
    assert.equal(r.parent, `${PARENT}::edge`, `${r.name}'s parent`);
    // The same connection as every other step: its host key pinned, secret as a whole (the key).
    const connection = unwrapSecret(r.inputs["connection"]);
    assert.equal(connection.secret, true);
    assert.deepEqual(connection.value, {
      host: "192.0.2.10",
      port: 22,
      user: "admin",
      privateKey: KEY,
      hostKey: "ssh-ed25519 AAAA",
      dialErrorLimit: 3,
      perDialTimeout: 20,
    });
    assert.equal(r.inputs["stdin"], script);
    assert.equal(r.options!.deletedWith, "edge-server");
  }
  assert.deepEqual(
    [proxy.inputs["create"], proxy.inputs["update"], proxy.inputs["delete"]],
    [proxyShell("apply"), proxyShell("apply"), proxyShell("remove")],
  );
  assert.deepEqual(proxy.inputs["triggers"], ["192.0.2.10:22"]);
  // After the firewall is confirmed (80 and 443 open) and the gateway trusts the proxy.
  assert.deepEqual(proxy.options!.dependsOn, ["edge-confirm", "edge-openclaw"]);
  // Replaced (a new address for the same host): removed through the old one first.
  assert.equal(proxy.options!.deleteBeforeReplace, true);
  assert.deepEqual(proxy.options!.customTimeouts, { create: "600s", update: "600s", delete: "10m" });

  assert.deepEqual(
    [verify.inputs["create"], verify.inputs["update"], verify.inputs["delete"]],
    [proxyShell("verify"), proxyShell("verify"), undefined],
  );
  assert.deepEqual(verify.options!.dependsOn, ["edge-proxy"]);
  assert.deepEqual(verify.options!.customTimeouts, { create: "10m", update: "10m" });
  // Again after every apply, OpenClaw install and firewall change: their stdout are triggers.
  assert.deepEqual(verify.options!.outputInputs.sort(), ["connection", "triggers"]);
  assert.equal((verify.inputs["triggers"] as unknown[]).length, 4);
  assert.deepEqual((proxy.options!.outputInputs ?? []).sort(), ["connection", "triggers"]);
});

test("on a host that is not a VM of the stack, nothing is deleted with anything", async () => {
  const { proxy, verify } = await build(false);
  assert.equal(proxy.options!.deletedWith, undefined);
  assert.equal(verify.options!.deletedWith, undefined);
});

test("without https the component registers no proxy step", async () => {
  const server = new OpenClawServer(
    "edge",
    {
      firewall: { ssh: { adminCidrs: ["198.51.100.10/32"] } },
      existing: { address: "192.0.2.10" },
      ssh: { user: "admin", privateKey: KEY },
      openclaw: { enabled: true },
    },
    { transformations: [recordParents] },
  );
  await promiseOf(pulumi.all([server.hostFirewallStatus, server.openclawVersion]));
  assert.ok(registrations.some((r) => r.name === "edge-openclaw"));
  assert.deepEqual(
    registrations.filter((r) => /proxy/.test(r.name)).map((r) => r.name),
    [],
  );
});
