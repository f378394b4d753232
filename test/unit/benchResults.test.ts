// bench/RESULTS.md's figures for the host scripts cannot go stale: each section measured on the
// sandbox host records the hash of the scripts it ran (bench/results.ts), and this fails when
// components/hardening/*.sh or *.py changed and that section was not measured again.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordedHash, scriptsHash, section } from "../../bench/results";

const RESULTS = path.join(__dirname, "../../bench/RESULTS.md");
/** Each section that measures the host scripts, and the command that measures it again. */
const MEASURED = {
  hardening: "sudo npm run bench -- hardening",
  profile: "sudo npm run bench -- profile",
  // The real-engine figures (issue 18): none yet; once RESULTS.md has them, the same rule.
  "real-engine": "the command that section names",
};
const REQUIRED = ["hardening", "profile"];

test("every figure of the host scripts in bench/RESULTS.md was measured with the scripts as they are", () => {
  const text = fs.readFileSync(RESULTS, "utf8");
  const now = scriptsHash();
  for (const [name, command] of Object.entries(MEASURED)) {
    const block = section(text, name);
    if (block === undefined) {
      assert.ok(!REQUIRED.includes(name), `bench/RESULTS.md has no ${name} section: run \`${command}\``);
      continue;
    }
    const recorded = recordedHash(block);
    assert.ok(
      recorded,
      `bench/RESULTS.md's ${name} section records no host scripts' hash: run \`${command}\``,
    );
    assert.equal(
      recorded,
      now,
      `bench/RESULTS.md's ${name} figures were measured with host scripts hashing to ${recorded}, and components/hardening/*.sh and *.py now hash to ${now}: measure them again with \`${command}\` (or \`sudo npm run bench\` for everything) and commit bench/RESULTS.md`,
    );
  }
});

test("the hash changes with any host script's content or name, and with a script added", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-hash-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "hardening.sh"), "say() { :; }\n");
  fs.writeFileSync(path.join(dir, "ufw_batch.py"), "import sys\n");
  fs.writeFileSync(path.join(dir, "steps.ts"), "export {};\n");
  const first = scriptsHash(dir);
  assert.match(first, /^[0-9a-f]{16}$/);
  fs.writeFileSync(path.join(dir, "steps.ts"), "export const x = 1;\n");
  assert.equal(scriptsHash(dir), first, "only *.sh and *.py count");
  fs.appendFileSync(path.join(dir, "ufw_batch.py"), "# a comment\n");
  const edited = scriptsHash(dir);
  assert.notEqual(edited, first);
  fs.renameSync(path.join(dir, "hardening.sh"), path.join(dir, "other.sh"));
  assert.notEqual(scriptsHash(dir), edited);
  fs.writeFileSync(path.join(dir, "more.sh"), "");
  assert.notEqual(scriptsHash(dir), edited);
  assert.equal(recordedHash(`- Host scripts measured: \`${first}\` (x)`), first);
});
