// verify's sshd check, run by bash with a stand-in sshd: which logins it asks sshd about
// (`sshd -T -C`), and what it reports. test/host/sshdMatch.test.ts runs it against a real sshd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/hardening/hardening.sh"), "utf8");

/** The body of one shell function in the library. */
function fn(name: string): string {
  const start = LIBRARY.indexOf(`\n${name}() {`);
  assert.ok(start >= 0, `no function ${name}`);
  return LIBRARY.slice(start, LIBRARY.indexOf("\n}\n", start) + 2);
}

/** Runs sshd_login_drift with `env`; the stand-in sshd answers `answer(spec)` and logs each spec. */
function drift(
  env: Record<string, string>,
  answers: Record<string, string>,
): { out: string; asked: string[] } {
  const sshd = [
    "sshd() {",
    '    [ "$1 $2" = "-T -C" ] || return 9',
    '    echo "$3" >&3',
    "    case $3 in",
    ...Object.entries(answers).map(
      ([user, answer]) => `        user=${user}*) printf '%s\\n' $'${answer.replace(/\n/g, "\\n")}' ;;`,
    ),
    "    esac",
    "}",
  ].join("\n");
  const r = spawnSync(
    "bash",
    [
      // Bash reads ~/.bashrc when its stdin is a socket, as node's pipes are: not here.
      "--norc",
      "-c",
      `set -euo pipefail\n${fn("session_process")}\n${fn("ssh_connection")}\n${fn("sshd_login_drift")}\n${fn("sshd_settings_drift")}\n${sshd}\nsshd_login_drift 3>&2`,
    ],
    { encoding: "utf8", env: { PATH: "/usr/bin:/bin", SSHD_EFFECTIVE: "", ...env } },
  );
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout, asked: r.stderr.split("\n").filter(Boolean) };
}

const HARDENED =
  "passwordauthentication no\nkbdinteractiveauthentication no\npermitrootlogin without-password";

test("through sudo: asks about the sudo user and root, over the deployer's connection", () => {
  const { out, asked } = drift(
    { SUDO_USER: "ubuntu", SSH_CONNECTION: "203.0.113.5 50022 192.0.2.10 22" },
    {
      ubuntu:
        "port 22\npasswordauthentication yes\nkbdinteractiveauthentication yes\npermitrootlogin without-password",
      root: HARDENED,
    },
  );
  assert.deepEqual(asked, [
    "user=ubuntu,host=203.0.113.5,addr=203.0.113.5,laddr=192.0.2.10,lport=22",
    "user=root,host=203.0.113.5,addr=203.0.113.5,laddr=192.0.2.10,lport=22",
  ]);
  assert.equal(
    out,
    "sshd -T -C user=ubuntu,host=203.0.113.5,addr=203.0.113.5,laddr=192.0.2.10,lport=22 shows " +
      "passwordauthentication yes, kbdinteractiveauthentication yes, not password logins off and root by key only: " +
      "a Match block or another file in sshd's configuration overrides the hardening for this login; remove it\n",
  );
});

test("as root with no connection known: asks about root alone, by user; silent when hardened", () => {
  const { out, asked } = drift({}, { root: HARDENED });
  assert.deepEqual(asked, ["user=root"]);
  assert.equal(out, "");
});

test("root by password for root is reported; an address that is not one is not passed to sshd", () => {
  const { out, asked } = drift(
    { SSH_CONNECTION: "203.0.113.5,user=x 1 192.0.2.10 22" },
    { root: "passwordauthentication no\nkbdinteractiveauthentication no\npermitrootlogin yes" },
  );
  assert.deepEqual(asked, ["user=root"]);
  assert.match(out, /^sshd -T -C user=root shows permitrootlogin yes, not password logins off/);
});

test("the declared sshdSettings: each keyword's lines must be exactly the declared ones", () => {
  const SSHD_EFFECTIVE = "maxauthtries 3\nallowusers ubuntu\nallowusers deploy\nlogingracetime 60";
  const applied = `${HARDENED}\nmaxauthtries 3\nallowusers deploy\nallowusers ubuntu\nlogingracetime 60`;
  assert.equal(drift({ SSHD_EFFECTIVE }, { root: applied }).out, "");
  const { out } = drift(
    { SSHD_EFFECTIVE },
    { root: `${HARDENED}\nmaxauthtries 6\nallowusers deploy\nallowusers ubuntu\nallowusers eve` },
  );
  assert.equal(
    out,
    "sshd -T -C user=root shows " +
      "allowusers deploy, allowusers eve, allowusers ubuntu (declared: allowusers deploy, allowusers ubuntu); " +
      "no logingracetime (declared: logingracetime 60); maxauthtries 6 (declared: maxauthtries 3), " +
      "not hardening.sshdSettings: " +
      "a Match block or another file in sshd's configuration overrides them for this login; remove it\n",
  );
});
