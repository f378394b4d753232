// The hardening's state directory holds the rollback script that root runs at boot: the library
// refuses one that another user owns or can write to, or that sits below such a directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";

const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/hardening/hardening.sh"), "utf8");

function fn(name: string): string {
  const start = LIBRARY.indexOf(`\n${name}() {`);
  assert.ok(start >= 0, `no function ${name}`);
  return LIBRARY.slice(start, LIBRARY.indexOf("\n}\n", start) + 2);
}

/** Runs the library's lock() for STATE=`state`: its exit status and what it printed. */
function lock(state: string): { status: number | null; err: string } {
  const r = spawnSync(
    "bash",
    [
      "--norc",
      "-c",
      `set -euo pipefail\n${["fail", "state_dir_problem", "check_state_dir", "lock"].map(fn).join("\n")}\nlock`,
    ],
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

test("a path through a symbolic link is refused, naming where it leads, even a root-owned link to a root-owned directory", (t) =>
  scratch(t, (dir) => {
    // The link and the directory it names are root's, but that directory sits in one another
    // user owns: that user can move it away and put their own in its place.
    const theirs = path.join(dir, "home");
    fs.mkdirSync(path.join(theirs, "rootsdir"), { recursive: true, mode: 0o755 });
    fs.chownSync(theirs, NOBODY, NOBODY);
    const link = path.join(dir, "link");
    fs.symlinkSync(path.join(theirs, "rootsdir"), link);
    const state = path.join(link, "state");
    const r = lock(state);
    assert.equal(r.status, 1, "accepted a state directory under a directory another user owns");
    assert.equal(
      r.err,
      `openclaw: FAILED: ${state} leads through a symbolic link to ${theirs}/rootsdir/state: hardening.stateDir must be a path without symbolic links (did you mean ${theirs}/rootsdir/state?)\n`,
    );
    assert.ok(!fs.existsSync(path.join(theirs, "rootsdir", "state")), "nothing was made there");

    // A link to a directory that is root's all the way is refused just the same: the link could
    // be changed later, and the path as written is what every step and the boot guard use.
    const safe = path.join(dir, "safe");
    fs.mkdirSync(safe, { mode: 0o755 });
    fs.symlinkSync(safe, path.join(dir, "safelink"));
    assert.match(
      lock(path.join(dir, "safelink", "state")).err,
      /leads through a symbolic link to .*\/safe\/state/,
    );
    // Control: the resolved path itself is taken.
    assert.equal(lock(path.join(safe, "state")).status, 0);
  }));

/**
 * Writes the runner as the host gets it (runner_script) and runs it for `state` with rollback.sh's
 * arguments `args`: its exit status and what it printed.
 */
function runner(state: string, ...args: string[]): { status: number | null; out: string; err: string } {
  const file = path.join(path.dirname(state), "openclaw-rollback");
  const script = spawnSync("bash", ["--norc", "-c", `${LIBRARY}\nrunner_script`], { encoding: "utf8" });
  assert.equal(script.status, 0, script.stderr);
  fs.writeFileSync(file, script.stdout, { mode: 0o755 });
  const r = spawnSync(file, [state, ...args], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test("the runner runs rollback.sh only from a state directory that is root's alone, and says why not", (t) =>
  scratch(t, (dir) => {
    const state = path.join(dir, "state");
    fs.mkdirSync(state, { mode: 0o700 });
    const script = path.join(state, "rollback.sh");
    const marker = path.join(dir, "ran");
    const write = (uid: number) => {
      fs.rmSync(script, { force: true });
      fs.writeFileSync(script, `echo "$*" >'${marker}'\n`, { mode: 0o700 });
      fs.chownSync(script, uid, uid);
      fs.rmSync(marker, { force: true });
    };
    const refusal = (problem: string) => `openclaw: FAILED: refusing to run ${script} as root: ${problem}\n`;

    // Root's alone: run, with its arguments, from /.
    write(0);
    let r = runner(state, "timer", "x");
    assert.equal(r.status, 0, r.err);
    assert.equal(fs.readFileSync(marker, "utf8"), "timer x\n");

    // Another user's rollback.sh.
    write(NOBODY);
    r = runner(state, "boot");
    assert.equal(r.status, 1);
    assert.equal(
      r.err,
      refusal(
        `${script} (uid ${NOBODY}, mode 700) is not root's alone: everything in hardening.stateDir (${state}) must be a file or directory that belongs to root and only root can write to`,
      ),
    );
    assert.ok(!fs.existsSync(marker), "ran another user's rollback.sh");

    // Root's rollback.sh, but writable by others, or in a directory another user owns or can write to.
    write(0);
    fs.chmodSync(script, 0o722);
    assert.match(runner(state, "boot").err, /rollback\.sh \(uid 0, mode 722\) is not root's alone/);
    fs.chmodSync(script, 0o700);
    fs.chownSync(state, NOBODY, NOBODY);
    assert.match(runner(state, "boot").err, new RegExp(`: ${state} belongs to uid ${NOBODY}:`));
    fs.chownSync(state, 0, 0);
    fs.chmodSync(state, 0o730);
    assert.match(runner(state, "boot").err, /state is writable by group or others \(mode 730\)/);
    fs.chmodSync(state, 0o700);
    // Anything else in it another user left there, or a link to somewhere else.
    fs.writeFileSync(path.join(state, "pending"), "");
    fs.chownSync(path.join(state, "pending"), NOBODY, NOBODY);
    assert.match(runner(state, "boot").err, /pending \(uid 65534, mode 644\) is not root's alone/);
    fs.rmSync(path.join(state, "pending"));
    fs.symlinkSync("/etc/ufw/user.rules", path.join(state, "snapshot"));
    assert.match(runner(state, "boot").err, /snapshot \(uid 0, mode 777\) is not root's alone/);
    fs.rmSync(path.join(state, "snapshot"));
    assert.ok(!fs.existsSync(marker), "ran a rollback.sh it should have refused");

    // Root's alone again: it runs.
    r = runner(state, "boot");
    assert.equal(r.status, 0, r.err);
    assert.equal(fs.readFileSync(marker, "utf8"), "boot\n");
  }));
