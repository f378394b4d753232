// The hardening's state directory holds the rollback script that root runs at boot: the library
// refuses one that another user owns or can write to, or that sits below such a directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";

const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/host/hardening.sh"), "utf8");

function fn(name: string): string {
  const start = LIBRARY.indexOf(`\n${name}() {`);
  assert.ok(start >= 0, `no function ${name}`);
  return LIBRARY.slice(start, LIBRARY.indexOf("\n}\n", start) + 2);
}

/** Runs the library's lock() for STATE=`state`: its exit status and what it printed. */
function lock(state: string): { status: number | null; err: string } {
  const r = spawnSync(
    "bash",
    ["--norc", "-c", `set -euo pipefail\n${fn("fail")}\n${fn("check_state_dir")}\n${fn("lock")}\nlock`],
    { encoding: "utf8", env: { PATH: "/usr/bin:/bin", STATE: state } },
  );
  return { status: r.status, err: r.stderr };
}

/** A scratch tree under the machine's /tmp (root's, sticky), removed after `body`. */
function scratch(
  t: { skip: (m: string) => void } & Parameters<typeof cannotRun>[0],
  body: (dir: string) => void,
) {
  if (process.getuid?.() !== 0) return cannotRun(t, "needs root, to give directories to another user");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "statedir-"));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const NOBODY = 65534;

test("a root-owned path is taken: the directory is made, 0700, and locked", (t) =>
  scratch(t, (dir) => {
    const state = path.join(dir, "var/lib/openclaw");
    const r = lock(state);
    assert.equal(r.status, 0, r.err);
    assert.equal(fs.statSync(state).mode & 0o777, 0o700);
    assert.ok(fs.existsSync(path.join(state, "lock")));
  }));

test("a state directory another user owns is refused, naming it, its owner and the key", (t) =>
  scratch(t, (dir) => {
    const state = path.join(dir, "state");
    fs.mkdirSync(state, { mode: 0o700 });
    fs.chownSync(state, NOBODY, NOBODY);
    const r = lock(state);
    assert.equal(r.status, 1);
    assert.equal(
      r.err,
      `openclaw: FAILED: ${state} belongs to uid ${NOBODY}: hardening.stateDir (${state}) and every directory above it must belong to root\n`,
    );
    assert.ok(!fs.existsSync(path.join(state, "lock")), "nothing was written there");
  }));

test("a directory above it that another user owns is refused before anything is made", (t) =>
  scratch(t, (dir) => {
    const parent = path.join(dir, "home");
    fs.mkdirSync(parent, { mode: 0o755 });
    fs.chownSync(parent, NOBODY, NOBODY);
    const state = path.join(parent, "state");
    const r = lock(state);
    assert.equal(r.status, 1);
    assert.match(r.err, new RegExp(`${parent} belongs to uid ${NOBODY}`));
    assert.ok(!fs.existsSync(state));
  }));

test("group- or world-writable: refused for the directory itself, and above it unless sticky", (t) =>
  scratch(t, (dir) => {
    const state = path.join(dir, "state");
    fs.mkdirSync(state);
    fs.chmodSync(state, 0o770);
    assert.match(lock(state).err, /state is writable by group or others \(mode 770\)/);
    // The sticky bit does not make the state directory itself safe: others could add files.
    fs.chmodSync(state, 0o1777);
    assert.equal(lock(state).status, 1);

    const shared = path.join(dir, "shared");
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const below = path.join(shared, "state");
    assert.match(lock(below).err, /shared is writable by group or others \(mode 777\)/);
    fs.chmodSync(shared, 0o1777);
    const r = lock(below);
    assert.equal(r.status, 0, `sticky, as /tmp is: ${r.err}`);
  }));
