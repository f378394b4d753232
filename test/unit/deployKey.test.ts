// The key step's script, run for real by /bin/sh as a login user would, in a scratch HOME.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { USER_SHELL, renderAuthorizeKeyScript } from "../../components/ssh/deployKey";

const OLD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOld0 old@example";
const NEW = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNew0 new@example";

function run(home: string, key: string) {
  const r = spawnSync("/bin/sh", ["-c", USER_SHELL], {
    input: renderAuthorizeKeyScript(key),
    env: { HOME: home, PATH: "/usr/bin:/bin" },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function scratchHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-key-"));
}

test("a rotated key is appended once, after the keys already there; a second run changes nothing", () => {
  const home = scratchHome();
  try {
    fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
    const file = path.join(home, ".ssh", "authorized_keys");
    // The launch key, in a file without a final newline.
    fs.writeFileSync(file, OLD, { mode: 0o600 });
    const first = run(home, NEW);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /authorized the new deploy key for/);
    assert.equal(fs.readFileSync(file, "utf8"), `${OLD}\n${NEW}\n`);
    const again = run(home, NEW);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already authorized/);
    assert.equal(fs.readFileSync(file, "utf8"), `${OLD}\n${NEW}\n`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test("a key already there with options or another comment counts as there", () => {
  const home = scratchHome();
  try {
    fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
    const file = path.join(home, ".ssh", "authorized_keys");
    const [type, blob] = NEW.split(" ");
    const line = `no-port-forwarding,no-pty ${type} ${blob} uploaded-by-hand\n`;
    fs.writeFileSync(file, line);
    assert.equal(run(home, NEW).code, 0);
    assert.equal(fs.readFileSync(file, "utf8"), line);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test("with no ~/.ssh yet, it is created private to the user", () => {
  const home = scratchHome();
  try {
    const result = run(home, NEW);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fs.statSync(path.join(home, ".ssh")).mode & 0o777, 0o700);
    const file = path.join(home, ".ssh", "authorized_keys");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(file, "utf8"), `${NEW}\n`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
