// bench/RESULTS.md's figures for the host scripts cannot go stale: each section measured on the
// sandbox host records the hash of the scripts it ran (bench/results.ts), and this fails when
// components/hardening/*.sh or *.py changed and that section was not measured again.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { measuredHash, recordedHash, scriptsHash, section } from "../../bench/results";

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

/**
 * The lines of `text` outside its measured sections that give a figure of the hardening: a table
 * row naming a step or rules with a time in it. Such a row records no scripts' hash, so nothing
 * would tell when it went stale.
 */
function unhashedHardeningFigures(text: string): string[] {
  let rest = text;
  for (const name of Object.keys(MEASURED)) rest = rest.replace(section(rest, name) ?? "\0", "");
  return rest
    .split("\n")
    .filter(
      (l) =>
        /^\|/.test(l) &&
        /\b(harden|hardening|verify|confirm|re-run|rules?)\b/i.test(l) &&
        /\d(\.\d+)? ?m?s\b/.test(l),
    );
}

test("bench/RESULTS.md gives no figure of the hardening outside a section that records its scripts' hash", () => {
  // The rule itself, on a row from before the sections had hashes, and inside one.
  const old = "| 3 | Re-run with an unchanged policy (harden step) | 0.51 s | — |";
  assert.deepEqual(unhashedHardeningFigures(`# Results\n\n${old}\n`), [old]);
  assert.deepEqual(
    unhashedHardeningFigures(
      `<!-- hardening -->\n- Host scripts measured: \`0123456789abcdef\`\n${old}\n<!-- /hardening -->\n`,
    ),
    [],
  );
  assert.deepEqual(unhashedHardeningFigures("| Stack `dev` (target aws, 20 resources) | 2.24 s |\n"), []);

  const rows = unhashedHardeningFigures(fs.readFileSync(RESULTS, "utf8"));
  assert.deepEqual(
    rows,
    [],
    `bench/RESULTS.md gives hardening figures outside its hardening and profile sections, where no scripts' hash says what they measured: remove them (\`${MEASURED.hardening}\` and \`${MEASURED.profile}\` write today's)`,
  );
});

test("a section records the hash of the scripts the steps rendered, and refuses it once they differ from the files", (t) => {
  // Every host script on disk is one the steps render, read when the bench started.
  assert.equal(measuredHash(), scriptsHash());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rendered-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "hardening.sh"), "say() { :; }\n");
  const rendered = { "hardening.sh": "say() { :; }\n" };
  assert.equal(measuredHash(rendered, dir), scriptsHash(dir));
  // Changed on disk after the steps were rendered: the figures measured the old text.
  fs.writeFileSync(path.join(dir, "hardening.sh"), "say() { echo; }\n");
  assert.throws(() => measuredHash(rendered, dir), /a script changed while the bench ran/);
  // A script on disk that no step renders.
  fs.writeFileSync(path.join(dir, "hardening.sh"), "say() { :; }\n");
  fs.writeFileSync(path.join(dir, "other.py"), "");
  assert.throws(() => measuredHash(rendered, dir), /or one is not rendered/);
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
