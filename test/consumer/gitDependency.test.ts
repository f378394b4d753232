// A git dependency builds itself on install. `npm pack git+file://<clone>` takes npm's own path
// for a git dependency (pacote: clone, install the clone's dev dependencies from its lockfile,
// run `prepare`, pack), offline from the npm cache when it can; installing one into a project
// adds only the resolution of its dependencies, which needs the registry.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, pack, tarballProblems } from "../support/pulumi/consumer";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-gitdep-"));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test("a git dependency on this repository builds dist/ on install (prepare)", () => {
  const clone = path.join(work, "clone");
  execFileSync("git", ["clone", "--quiet", ROOT, clone]);
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: clone, encoding: "utf8" }).trim();
  assert.ok(!fs.existsSync(path.join(clone, "dist")), "a clone has no build");
  const packed = pack(work, `git+file://${clone}#${commit}`);
  assert.deepEqual(tarballProblems(packed.files), []);
});
