// The host key pin's pure core: parsing and fingerprints (checked against ssh-keygen's), the
// deployer's key-reading script run for real with node (ssh-keyscan played by a stub on PATH),
// the comparison with the pin, and the mismatch message.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  HOST_KEY_SCRIPT,
  compareHostKey,
  parseHostKey,
  renderHostKeyMismatch,
  type HostKey,
} from "../../components/ssh/hostKey";

// Real keys (public halves), with the fingerprints `ssh-keygen -lf` printed for them.
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";
const ED25519_FP = "SHA256:3n8ttzqHrVECTLB8+1SbnQ9YKlqzmFN/dz9gsW0FkNQ";
const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF17lbBpFjW+hLbDWMr0GrgiXGFNNDCVo8mWUJUamk12";
const OTHER_FP = "SHA256:5Qy9UNu6TG7xNRfAoKYtgmeXLNMj0sqwktMK9H/IN+8";
const ECDSA =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBETBBCWmjoNqxMEzGgqGim7WU8ux4LX+gCICBELnHBQ1Mbno9MK6OXvas8CatGBJzBt+9HGdycfegouTkgFoB0Q=";
const ECDSA_FP = "SHA256:rWjht+UMhmrazMDqsuQ+QF/LeVXxKgwLAG205NrHE98";

const key = (line: string): HostKey => {
  const p = parseHostKey(line);
  assert.ok(p.ok, `${line}: ${p.ok ? "" : p.problem}`);
  return p.key;
};

describe("parseHostKey", () => {
  test("ed25519 and ECDSA keys, with or without a comment: the line alone, and ssh-keygen's fingerprint", () => {
    assert.deepEqual(key(`${ED25519} root@debian`), {
      type: "ssh-ed25519",
      line: ED25519,
      fingerprint: ED25519_FP,
    });
    assert.deepEqual(key(` ${ECDSA}\n`), { type: "ecdsa-sha2-nistp256", line: ECDSA, fingerprint: ECDSA_FP });
    assert.equal(key(OTHER).fingerprint, OTHER_FP);
  });
  test("truncated key data is not a key", () => {
    const p = parseHostKey(ED25519.slice(0, -8));
    assert.ok(!p.ok);
    assert.match(p.problem, /does not decode/);
  });
});

describe("the deployer's key-reading script, with ssh-keyscan played by a stub", () => {
  let bin: string;
  before(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-keyscan-"));
  });
  after(() => fs.rmSync(bin, { recursive: true, force: true }));

  /** Installs a stub ssh-keyscan that prints `stdout` and `stderr` and records its arguments. */
  function stub(stdout: string, stderr: string, code = 0): void {
    fs.writeFileSync(path.join(bin, "out"), stdout);
    fs.writeFileSync(path.join(bin, "err"), stderr);
    fs.writeFileSync(
      path.join(bin, "ssh-keyscan"),
      `#!/bin/sh\necho "$@" >"${bin}/args"\ncat "${bin}/out"\ncat "${bin}/err" >&2\nexit ${code}\n`,
      { mode: 0o755 },
    );
  }
  function run(mode: "record" | "check", env: Record<string, string> = {}, withStub = true) {
    return spawnSync(process.execPath, [], {
      input: HOST_KEY_SCRIPT,
      encoding: "utf8",
      env: {
        PATH: withStub ? `${bin}:/usr/bin:/bin` : path.join(bin, "nothing-here"),
        OPENCLAW_SSH_HOST: "2001:db8::10",
        OPENCLAW_SSH_PORT: "2222",
        OPENCLAW_HOST_KEY_MODE: mode,
        ...env,
      },
    });
  }
  const ANSWERED = "# [2001:db8::10]:2222 SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\n";
  const LINES = `[2001:db8::10]:2222 ${ECDSA}\n[2001:db8::10]:2222 ${ED25519}\n`;

  test("record: asks for the ed25519 and ECDSA keys at the host and port, prints the ed25519 one", () => {
    stub(LINES, ANSWERED);
    const r = run("record");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${ED25519}\n`);
    assert.equal(
      fs.readFileSync(path.join(bin, "args"), "utf8").trim(),
      "-T 10 -p 2222 -t ed25519,ecdsa 2001:db8::10",
    );
  });
  test("record, run again as an update: prints the key it took before, reading nothing", () => {
    stub(`[2001:db8::10]:2222 ${OTHER}\n`, ANSWERED);
    fs.rmSync(path.join(bin, "args"), { force: true });
    const r = run("record", { PULUMI_COMMAND_STDOUT: ED25519 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${ED25519}\n`);
    assert.ok(!fs.existsSync(path.join(bin, "args")), "ssh-keyscan ran");
  });
  test("record fails when there is no key to take: no answer, or no ed25519 or ECDSA key", () => {
    stub("", "");
    let r = run("record");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\[2001:db8::10\]:2222 did not answer ssh-keyscan within 10 s/);
    stub("[2001:db8::10]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n", ANSWERED);
    r = run("record");
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /answered \(SSH-2\.0-OpenSSH_9\.6p1\) but presents no ssh-ed25519 or ECDSA host key/,
    );
  });
  test("without ssh-keyscan, the first contact says what to install", () => {
    const r = run("record", {}, false);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ssh-keyscan \(OpenSSH's client\) is not installed on this machine/);
  });
  test("check: prints every key and exits 0, also when nothing answers; the component decides", () => {
    stub(LINES, ANSWERED);
    let r = run("check");
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${ED25519}\n${ECDSA}\n`);
    assert.deepEqual(compareHostKey(key(ED25519), r.stdout, r.stderr), { kind: "match" });
    assert.deepEqual(compareHostKey(key(OTHER), r.stdout, r.stderr), {
      kind: "mismatch",
      seen: key(ED25519),
      offered: [key(ED25519), key(ECDSA)],
    });
    stub("", "");
    r = run("check");
    assert.equal(r.status, 0);
    assert.deepEqual(compareHostKey(key(ED25519), r.stdout, r.stderr), {
      kind: "unreachable",
      reason: "[2001:db8::10]:2222 did not answer ssh-keyscan within 10 s",
    });
    // It answered, with no key of the pinned type: another host, not an unreachable one.
    stub(`[2001:db8::10]:2222 ${ECDSA}\n`, ANSWERED);
    r = run("check");
    assert.deepEqual(compareHostKey(key(ED25519), r.stdout, r.stderr), {
      kind: "mismatch",
      offered: [key(ECDSA)],
    });
  });
});

describe("the mismatch message", () => {
  const mismatch = { kind: "mismatch", seen: key(OTHER), offered: [key(OTHER)] } as const;
  test("a first-contact pin: both fingerprints, nothing sent, the replace command, the config key", () => {
    const m = renderHostKeyMismatch("192.0.2.10 port 22", key(ED25519), mismatch, {
      kind: "first-contact",
      key: "openclaw:sshHostKey",
      step: "openclaw-host-key",
      urn: "urn:pulumi:home::openclaw::openclaw-server:index:OpenClawServer$command:local:Command::openclaw-host-key",
    });
    assert.ok(
      m.startsWith(
        `openclaw: the host at 192.0.2.10 port 22 presents the ssh-ed25519 host key ${OTHER_FP}, `,
      ),
    );
    assert.match(
      m,
      new RegExp(
        `this stack pinned ${ED25519_FP.replace(/\+/g, "\\+")} when it first reached the host \\(openclaw-host-key`,
      ),
    );
    assert.match(m, /No SSH step ran: nothing was sent to it\./);
    assert.match(
      m,
      /pulumi up --replace 'urn:pulumi:home::openclaw::.*::openclaw-host-key' \(or pin it in openclaw:sshHostKey\)/,
    );
    assert.match(m, /ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
  });
  test("a configured pin: the key to change", () => {
    const m = renderHostKeyMismatch("192.0.2.10 port 22", key(ED25519), mismatch, {
      kind: "config",
      key: "edge.ssh.hostKey",
    });
    assert.match(m, new RegExp(`but edge\\.ssh\\.hostKey pins ${ED25519_FP.replace(/\+/g, "\\+")}\\.`));
    assert.match(m, /then set edge\.ssh\.hostKey to the host's new public key line/);
    assert.doesNotMatch(m, /--replace/);
  });
  test("a host with no key of the pinned type says what it offers", () => {
    const m = renderHostKeyMismatch(
      "192.0.2.10 port 22",
      key(ED25519),
      { kind: "mismatch", offered: [key(ECDSA)] },
      {
        kind: "config",
        key: "openclaw:sshHostKey",
      },
    );
    assert.match(
      m,
      new RegExp(
        `presents no ssh-ed25519 host key \\(it offers ecdsa-sha2-nistp256 ${ECDSA_FP.replace(/\+/g, "\\+")}\\)`,
      ),
    );
  });
});
