// sshd's Match blocks on the sandbox's real sshd: the hardening's own option cannot start one,
// and verify asks sshd what it applies to the deployer's login (`sshd -T -C`), so a Match block
// elsewhere in sshd's configuration that brings passwords back fails verification.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { runStep } from "../support/host/deploy";
import { applyOk, homeSteps, sandboxPool, hostSuiteSkip } from "../support/host/hostTest";
import { PolicyError } from "../../components/policy/errors";
import { SSHD_ALIASES } from "../../components/hardening/sshdConfig";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

const serverConfig = (sandbox: Sandbox) => `/etc/netns/${sandbox.server.ns}/ssh/sshd_config`;

/** Appends `block` to the server's sshd_config and waits until its sshd has read it again. */
async function appendToSshdConfig(sandbox: Sandbox, original: string, block: string): Promise<void> {
  fs.writeFileSync(serverConfig(sandbox), `${original}${block}`);
  sandbox.sshd("-t");
  const listening = () =>
    fs.readFileSync(sandbox.sshdLog, "utf8").split("Server listening on :: port 22").length;
  const before = listening();
  process.kill(Number(fs.readFileSync(path.join(sandbox.dir, "sshd.pid"), "utf8")), "SIGHUP");
  const deadline = Date.now() + 10_000;
  while (listening() === before) {
    assert.ok(Date.now() < deadline, "sshd did not restart after SIGHUP");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("sshd Match blocks", { skip }, () => {
  test("the names refused as aliases are the ones this sshd reads as KbdInteractiveAuthentication", async () => {
    const sandbox = await newSandbox();
    const file = path.join(sandbox.dir, "alias_test_config");
    const effective = (line: string) => {
      fs.writeFileSync(
        file,
        `HostKey /etc/ssh/ssh_host_ed25519_key\nKbdInteractiveAuthentication no\nMatch User nobody\n  ${line}\n`,
      );
      return /^kbdinteractiveauthentication (\w+)$/m.exec(sandbox.sshd(`-T -f ${file} -C user=nobody`))![1];
    };
    for (const alias of Object.keys(SSHD_ALIASES)) assert.equal(effective(`${alias} yes`), "yes", alias);
    assert.equal(effective("X11Forwarding yes"), "no", "control: another keyword leaves it alone");
  });

  test("Match and aliases in hardening.sshd.settings are refused before any SSH connection", async () => {
    const sandbox = await newSandbox();
    await assert.rejects(
      homeSteps(
        sandbox,
        {},
        { sshd: { settings: { Match: "User root", ChallengeResponseAuthentication: "yes" } } },
      ),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.deepEqual(
          e.problems.map((p) => p.key),
          [
            "openclaw:hardening.sshd.settings.Match",
            "openclaw:hardening.sshd.settings.ChallengeResponseAuthentication",
          ],
        );
        return true;
      },
    );
    assert.deepEqual(sandbox.sshdConnections(), [], "sshd logged a connection");
  });

  test("a Match block that re-enables passwords for the login user, or for the deployer's address, fails verify", async () => {
    const sandbox = await newSandbox();
    const s = await homeSteps(sandbox);
    await applyOk(sandbox, s);
    assert.equal(await sandbox.passwordLogin(), "denied");
    const original = fs.readFileSync(serverConfig(sandbox), "utf8");

    // The sandbox logs in as root: a Match block for root, read after the drop-in, undoes it.
    await appendToSshdConfig(
      sandbox,
      original,
      "Match User root\n  PasswordAuthentication yes\n  PermitRootLogin yes\n",
    );
    assert.equal(await sandbox.passwordLogin(), "accepted", "the Match block really lets passwords in");
    assert.match(sandbox.sshd("-T"), /^passwordauthentication no$/m, "plain sshd -T does not see it");
    let verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(
      verify.stderr,
      /FAILED: sshd -T -C user=root,host=198\.51\.100\.10,addr=198\.51\.100\.10,laddr=192\.168\.1\.100,lport=22 shows permitrootlogin yes, passwordauthentication yes, not password logins off and root by key only: a Match block/,
    );

    // Only a check made with the deployer's address sees a Match on it.
    await appendToSshdConfig(
      sandbox,
      original,
      "Match Address 198.51.100.10\n  KbdInteractiveAuthentication yes\n  PermitRootLogin yes\n",
    );
    verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(
      verify.stderr,
      /FAILED: sshd -T -C user=root,host=198\.51\.100\.10,addr=198\.51\.100\.10,[^ ]* shows /,
    );
    assert.match(verify.stderr, /shows [^:]*kbdinteractiveauthentication yes/);
    assert.match(verify.stderr, /shows [^:]*permitrootlogin yes/);

    // Taken out again, verify passes: the check can pass.
    await appendToSshdConfig(sandbox, original, "");
    verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(await sandbox.passwordLogin(), "denied");
  });

  test("verify checks that sshd applies the declared sshdSettings to the deployer's login", async () => {
    const sandbox = await newSandbox();
    const s = await homeSteps(sandbox, {}, { sshdSettings: { MaxAuthTries: 3, LoginGraceTime: "1m" } });
    // verify, which asks sshd (-T -C) what it applies, passes as declared.
    await applyOk(sandbox, s);
    const original = fs.readFileSync(serverConfig(sandbox), "utf8");

    await appendToSshdConfig(sandbox, original, "Match User root\n  MaxAuthTries 10\n");
    let verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(
      verify.stderr,
      /FAILED: sshd -T -C user=root,[^ ]* shows maxauthtries 10 \(declared: maxauthtries 3\), not hardening\.sshdSettings: a Match block/,
    );

    await appendToSshdConfig(sandbox, original, "");
    verify = await runStep(sandbox, s[1]!);
    assert.equal(verify.code, 0, verify.stderr);
  });
});
