// What a test does when this machine lacks what it needs: skip, with the reason, on a developer's
// machine; fail under CI=true, where .ci/run installs everything, so a skip would hide a gap.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

export function inCI(): boolean {
  return process.env["CI"] === "true";
}

/** Skips the test `t` (or, in CI, fails it) because of `reason`. */
export function cannotRun(t: TestContext, reason: string): void {
  if (inCI()) assert.fail(`CI=true but this test cannot run: ${reason}`);
  t.skip(reason);
}
