// The SSH host key under mocks: the first-contact step (type, name, parent, inputs, options), the
// pin on every remote.Command's connection, the deployer's check before them (an invoke), the
// run failing on another key with no SSH step registered, the outputs, and the secrets, which
// reach none of it.
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
  runProgram,
  setPreview,
  unwrapSecret,
  type Registration,
} from "../support/pulumi/mocks";
import { OpenClawServer, type OpenClawServerArgs } from "../../components/OpenClawServer";
import { HOST_KEY_SCRIPT } from "../../components/ssh/hostKey";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nHOSTKEYTESTKEY-51c0\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA deploy@example";
const COMPONENT = "openclaw-server:index:OpenClawServer";
const LOCAL = "command:local:Command";
const REMOTE = "command:remote:Command";
const TOKEN = "TOKEN-hostkey-6a1f0e2d9c8b7a65-0123456789";
const ANTHROPIC = "sk-ant-HOSTKEY-0b1c2d3e4f5a";
const SECRETS = [TOKEN, ANTHROPIC, "HOSTKEYTESTKEY"];

const hcloud = (ssh: Partial<OpenClawServerArgs["ssh"]> = {}): OpenClawServerArgs => ({
  firewall: { ssh: { adminCidrs: ["198.51.100.10/32"] } },
  hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
  ssh: { privateKey: KEY, ...ssh },
  openclaw: { gatewayToken: TOKEN, anthropicApiKey: ANTHROPIC },
});
const existing = (ssh: Partial<OpenClawServerArgs["ssh"]> = {}): OpenClawServerArgs => ({
  firewall: { ssh: { port: 2222, adminCidrs: ["198.51.100.10/32"] } },
  existing: { address: "192.0.2.10", sshPort: 2200 },
  ssh: { user: "admin", privateKey: KEY, ...ssh },
  openclaw: { enabled: true, gatewayToken: TOKEN },
});

/** Builds the component as the engine runs a program: resolves once every step has registered. */
function build(args: OpenClawServerArgs): Promise<OpenClawServer> {
  return runProgram(
    () => new OpenClawServer("edge", args, { transformations: [recordParents] }),
    (server) =>
      promiseOf(
        pulumi.all([
          server.hostFirewallStatus,
          server.openclawVersion,
          server.sshHostKey,
          server.sshHostKeyFingerprint,
        ]),
      ),
  );
}

const find = (type: string, name: string): Registration => {
  const r = registrations.find((x) => x.type === type && x.name === name);
  assert.ok(r, `no ${type} ${name}; registered: ${registrations.map((x) => x.name).join(", ")}`);
  return r;
};
const remoteSteps = () => registrations.filter((r) => r.type === REMOTE);
const pinOf = (r: Registration) =>
  unwrapSecret((unwrapSecret(r.inputs["connection"]).value as Record<string, unknown>)["hostKey"]).value;
const checks = () => invokes.filter((i) => i.token === "command:local:run");

beforeEach(() => reset());

describe("no hostKey: trust on first use, pinned for every step", () => {
  test("the first-contact step: a local command after the wait, taken again only for a new host", async () => {
    await build(hcloud());
    const first = find(LOCAL, "edge-host-key");
    assert.equal(first.parent, `${COMPONENT}::edge`);
    assert.equal(first.inputs["create"], "node");
    assert.equal(first.inputs["update"], "node", "an update re-prints the key it took: no new first contact");
    assert.equal(first.inputs["stdin"], HOST_KEY_SCRIPT);
    assert.deepEqual(first.inputs["environment"], {
      OPENCLAW_SSH_HOST: "198.51.100.20",
      OPENCLAW_SSH_PORT: "22",
      OPENCLAW_HOST_KEY_MODE: "record",
    });
    // The host's identity, as the hardening's: a replaced server means a new first contact.
    assert.deepEqual(first.inputs["triggers"], find(REMOTE, "edge-harden").inputs["triggers"]);
    assert.deepEqual(first.options!.dependsOn, ["edge-wait-ssh"]);
    assert.equal(first.options!.deletedWith, "edge-server");
  });

  test("every remote.Command pins the key the first contact took; the check ran before them", async () => {
    lookups.recordedHostKey = HOST_KEYS.first;
    const server = await build(hcloud());
    const steps = remoteSteps();
    assert.deepEqual(steps.map((r) => r.name).sort(), [
      "edge-authorize-key",
      "edge-confirm",
      "edge-harden",
      "edge-openclaw",
      "edge-openclaw-remove",
      "edge-openclaw-verify",
      "edge-verify",
    ]);
    for (const r of steps) {
      assert.equal(pinOf(r), HOST_KEYS.first, `${r.name} pins the key`);
      // An Output from the first contact, through the check: not a value the program knew.
      assert.ok(r.options!.outputInputs.includes("connection"), `${r.name}'s connection is an Output`);
    }
    assert.equal(await promiseOf(server.sshHostKey), HOST_KEYS.first);
    assert.equal(await promiseOf(server.sshHostKeyFingerprint), HOST_KEYS.firstFingerprint);
    assert.deepEqual(
      checks().map((i) => [i.inputs["command"], i.inputs["stdin"], i.inputs["environment"]]),
      [
        [
          "node",
          HOST_KEY_SCRIPT,
          { OPENCLAW_SSH_HOST: "198.51.100.20", OPENCLAW_SSH_PORT: "22", OPENCLAW_HOST_KEY_MODE: "check" },
        ],
      ],
    );
  });

  test("a host that presents another key: the run fails naming both keys, before any SSH step registers", async () => {
    lookups.recordedHostKey = HOST_KEYS.first;
    lookups.presentedHostKey = HOST_KEYS.other;
    await assert.rejects(build(hcloud()), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, /the host at 198\.51\.100\.20 port 22 presents the ssh-ed25519 host key/);
      assert.ok(message.includes(HOST_KEYS.otherFingerprint), message);
      assert.ok(message.includes(HOST_KEYS.firstFingerprint), message);
      assert.match(message, /No SSH step ran: nothing was sent to it/);
      assert.match(
        message,
        /pulumi up --replace 'urn:pulumi:test::openclaw::openclaw-server:index:OpenClawServer\$command:local:Command::edge-host-key' \(or pin it in edge\.ssh\.hostKey\)/,
      );
      return true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(remoteSteps(), [], "an SSH step registered");
  });
});

test("a preview reads nothing from the host: no check, and the steps pin the key in the state", async () => {
  lookups.recordedHostKey = HOST_KEYS.first;
  lookups.presentedHostKey = HOST_KEYS.other;
  setPreview(true);
  try {
    await build(hcloud());
  } finally {
    setPreview(false);
  }
  assert.deepEqual(checks(), []);
  for (const r of remoteSteps()) assert.equal(pinOf(r), HOST_KEYS.first, `${r.name} pins the key`);
});

describe("hostKey given: pinned from the args", () => {
  test("no first contact; every step pins the given key (its comment dropped), checked before them", async () => {
    lookups.presentedHostKey = HOST_KEYS.first;
    const server = await build(existing({ hostKey: `${HOST_KEYS.first} root@host` }));
    assert.ok(!registrations.some((r) => r.name === "edge-host-key"), "a first-contact step");
    for (const r of remoteSteps()) assert.equal(pinOf(r), HOST_KEYS.first, `${r.name} pins the key`);
    assert.equal(await promiseOf(server.sshHostKey), HOST_KEYS.first);
    assert.deepEqual(checks()[0]!.inputs["environment"], {
      OPENCLAW_SSH_HOST: "192.0.2.10",
      OPENCLAW_SSH_PORT: "2200",
      OPENCLAW_HOST_KEY_MODE: "check",
    });
  });

  test("another key at the host fails the run naming the key to change", async () => {
    lookups.presentedHostKey = HOST_KEYS.other;
    await assert.rejects(build(existing({ hostKey: HOST_KEYS.first })), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, /the host at 192\.0\.2\.10 port 2200 presents/);
      assert.ok(message.includes(`but edge.ssh.hostKey pins ${HOST_KEYS.firstFingerprint}`), message);
      assert.match(message, /then set edge\.ssh\.hostKey to the host's new public key line/);
      return true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(remoteSteps(), []);
  });

  test("a host the check cannot reach: a warning; the steps still pin the key", async () => {
    lookups.presentedHostKey = "";
    const logs: string[] = [];
    const warn = console.warn;
    const log = console.log;
    console.warn = console.log = (...a: unknown[]) => logs.push(a.map(String).join(" "));
    try {
      await build(existing({ hostKey: HOST_KEYS.first }));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      console.warn = warn;
      console.log = log;
    }
    for (const r of remoteSteps()) assert.equal(pinOf(r), HOST_KEYS.first, `${r.name} pins the key`);
    assert.ok(
      logs.some((l) => /could not read the host key at 192\.0\.2\.10 port 2200 before the SSH steps/.test(l)),
      logs.join("\n"),
    );
  });
});

test("the secrets reach neither the first contact nor the check, nor the pin", async () => {
  await build(hcloud());
  const deployerSide = [
    ...registrations.filter((r) => r.type === LOCAL).map((r) => r.inputs),
    ...checks().map((i) => i.inputs),
  ];
  assert.ok(deployerSide.length >= 3);
  const text = JSON.stringify(deployerSide);
  for (const s of SECRETS) assert.ok(!text.includes(s), "a secret in a deployer-side step");
  for (const r of remoteSteps())
    for (const s of SECRETS) assert.ok(!String(pinOf(r)).includes(s), `${r.name}'s host key holds a secret`);
});
