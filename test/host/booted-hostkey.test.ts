// The SSH host key on a booted Debian host: the first `pulumi up` pins the key the host presents;
// then another machine answers at the same address and port (an sshd with a key of its own, in
// the server's network namespace, the real host's sshd stopped), accepting the deployer's key
// and recording whatever a session sends. The stack has OpenClaw on, so the next runs' install
// step carries the gateway token and an API key on stdin. Neither reaches the impostor: a run
// that starts after the swap fails before any step, naming both fingerprints; a step that
// starts after its run's check pins the key itself and is refused in the key exchange. The
// deployer's own steps (wait, first contact, check) run for real in the admin namespace, and
// each SSH step with its own connection.hostKey (test/support/host/deploy.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BootedHost, bootedUnavailable } from "../support/host/bootedHost";
import { bootedPool } from "../support/host/bootedTest";
import { DeployerState, deploySteps, runStep, type RemoteStep } from "../support/host/deploy";
import { hostSuiteSkip } from "../support/host/hostTest";
import { Impostor } from "../support/host/impostor";

const skip = hostSuiteSkip(bootedUnavailable());
const newHost = bootedPool();

/** Distinctive values, so that any copy of them is found. */
const secret = (tag: string) => `${tag}-${randomBytes(18).toString("base64url")}`;
const TOKENS = [secret("bait-token-one"), secret("bait-token-two"), secret("bait-token-three")];
const API_KEY = secret("sk-ant-bait");

describe("the SSH host key on a booted host: a machine posing as it gets no secret", { skip }, () => {
  let host: BootedHost;
  let impostor: Impostor | undefined;
  /** What the engine keeps of the deployer's steps between the runs below. */
  const state = new DeployerState();
  /** One `pulumi up` of the home stack with OpenClaw on, with `token` as the gateway token. */
  const run = (token: string): Promise<Map<string, RemoteStep>> =>
    deploySteps(
      host,
      "home",
      fs.readFileSync(host.clientKey, "utf8"),
      {
        "openclaw:sshUser": host.user,
        "openclaw:openclaw": { enabled: true },
        "openclaw:gatewayToken": token,
        "openclaw:anthropicApiKey": API_KEY,
      },
      state,
    );
  /** The real host's key, read from its own filesystem. */
  const realKey = () =>
    fs
      .readFileSync(path.join(host.root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
  const realFingerprint = () =>
    execFileSync("ssh-keygen", ["-lf", path.join(host.root, "etc/ssh/ssh_host_ed25519_key.pub")], {
      encoding: "utf8",
    }).split(" ")[1]!;

  before(async () => {
    host = await newHost();
  });
  after(() => impostor?.stop());

  test("the first run pins the key the host presents, and the hardening runs under that pin", async () => {
    const steps = await run(TOKENS[0]!);
    assert.ok(steps.has("openclaw-openclaw"), "OpenClaw's install step is part of the run");
    assert.ok(steps.get("openclaw-openclaw")!.stdin.includes(TOKENS[0]!), "it carries the token");
    for (const step of steps.values())
      assert.equal(step.connection.hostKey, realKey(), `${step.name} pins the host's key`);
    // The steps that need no install: the hardening, over connections that check the pin.
    for (const name of ["openclaw-harden", "openclaw-verify", "openclaw-confirm"]) {
      const r = await runStep(host, steps.get(name)!);
      assert.equal(r.code, 0, `${name} failed:\n${r.stdout}\n${r.stderr}`);
    }
  });

  test("a machine that takes the address after the run's check gets nothing: the step itself pins the key", async () => {
    // The run starts while the real host answers: its check passes, its steps are ready.
    const steps = await run(TOKENS[1]!);
    const install = steps.get("openclaw-openclaw")!;
    assert.ok(install.stdin.includes(TOKENS[1]!) && install.stdin.includes(API_KEY));
    // Then the real host's sshd goes, and another machine answers at the same address and port.
    host.onServer(
      "systemctl stop ssh.service; ! systemctl is-active -q ssh.socket || systemctl stop ssh.socket",
    );
    impostor = new Impostor(host, host.user);
    await impostor.start();
    assert.notEqual(impostor.fingerprint, realFingerprint());

    const r = await runStep(host, install, 20_000);
    assert.equal(r.code, 255, `the install step ran on the impostor:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Host key verification failed/);
    assert.ok(impostor.connections().length > 0, "the impostor was dialled");
    assert.deepEqual(impostor.sessions(), [], "the impostor accepted a login");
    assert.equal(impostor.stdin(), "", "the impostor received stdin");
  });

  test("the next run fails before any step, naming both fingerprints, the key and how to take the new one", async () => {
    assert.ok(impostor, "the impostor from the test before");
    const ran = state.ran.length;
    await assert.rejects(run(TOKENS[2]!), (e: unknown) => {
      const message = (e as Error).message;
      assert.match(message, /192\.168\.1\.100 port 22/);
      assert.ok(message.includes(impostor!.fingerprint), `the seen fingerprint:\n${message}`);
      assert.ok(message.includes(realFingerprint()), `the expected fingerprint:\n${message}`);
      assert.match(message, /openclaw:sshHostKey/);
      assert.match(message, /pulumi up --replace '[^']*openclaw-host-key'/);
      assert.match(message, /nothing was sent/);
      return true;
    });
    // The first contact is not taken again: same host, same address.
    assert.deepEqual(state.ran.slice(ran), []);
    assert.deepEqual(impostor.sessions(), [], "the impostor accepted a login");
    assert.equal(impostor.stdin(), "", "the impostor received stdin");
  });

  test("nothing of the secrets is anywhere the impostor keeps; a client that skips the check would have given it all", async () => {
    assert.ok(impostor, "the impostor from the tests before");
    const everything = impostor.everything();
    for (const s of [...TOKENS, API_KEY]) assert.ok(!everything.includes(s), "a secret reached the impostor");
    // The control: a session that accepts any host key (a remote.Command without hostKey) logs
    // in and has its stdin recorded, so the checks above could have failed.
    const canary = secret("canary");
    const key = fs.readFileSync(host.clientKey, "utf8");
    const r = await host.ssh(
      { host: host.server.v4, port: 22, user: host.user, privateKey: key },
      "true",
      canary,
      {
        timeoutMs: 20_000,
        perDialSeconds: 5,
        anyHostKey: true,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(impostor.stdin(), canary);
    assert.equal(impostor.sessions().filter((l) => l.includes("Accepted publickey")).length, 1);
  });

  test("after a reinstall, replacing the first-contact step takes the new key, as the error says", async () => {
    assert.ok(impostor, "the impostor from the tests before");
    state.replace("openclaw-host-key");
    const steps = await run(TOKENS[2]!);
    for (const step of steps.values())
      assert.equal(step.connection.hostKey, impostor.publicKey, `${step.name} pins the new key`);
  });
});
