// What the test runner tells at the end (test/support/runner/report.ts, suiteRun.ts): durations
// that read right at a minute's edge, and each failed test repeated with what it said, so the
// tail of a CI log names the failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { failureLines, failureText, fmtSeconds } from "../support/runner/report";
import type { SuiteResult } from "../support/runner/suiteRun";

test("durations: seconds under a minute, then minutes and seconds rounded once", () => {
  assert.equal(fmtSeconds(0.04), "0.0 s");
  assert.equal(fmtSeconds(42), "42.0 s");
  assert.equal(fmtSeconds(59.94), "59.9 s");
  assert.equal(fmtSeconds(59.96), "1 min 0 s");
  assert.equal(fmtSeconds(179.6), "3 min 0 s");
  assert.equal(fmtSeconds(179.4), "2 min 59 s");
  assert.equal(fmtSeconds(3661.2), "61 min 1 s");
});

test("a failed test's error is kept to its first lines", () => {
  const long = new Error(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n"));
  const text = failureText({ cause: long });
  assert.match(text, /^Error: line 1\n/);
  assert.match(text, /\nline 12\n\.\.\. \(18 more lines in its report above\)$/);
  assert.equal(failureText(new Error("short")), "Error: short");
  assert.equal(
    failureLines("test/x.test.ts", "a name", "Error: one\ntwo"),
    "# FAILED test/x.test.ts: a name\n#   Error: one\n#   two",
  );
});

test("a suite's failures are collected with their test's name and its assertion's message", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "runner-report-"));
  try {
    fs.writeFileSync(
      path.join(root, "failing.test.mjs"),
      [
        'import { test } from "node:test";',
        'import assert from "node:assert/strict";',
        'import { describe } from "node:test";',
        'test("passes", () => {});',
        'describe("the sandbox", () => {',
        '  test("the door is shut", () => assert.equal("open", "blocked", "port 8000 from the untrusted peer"));',
        "});",
      ].join("\n"),
    );
    // node:test runs no files from inside a test file, so the runner's own code runs in a process
    // of its own, as test/run.ts runs it.
    fs.writeFileSync(
      path.join(root, "run.ts"),
      [
        `import { runSuite } from ${JSON.stringify(path.join(__dirname, "..", "support", "runner", "suiteRun"))};`,
        `void runSuite(${JSON.stringify(root)}, { file: "failing.test.mjs", cost: { seconds: 1, cores: 1, memoryMiB: 100 }, measured: false })`,
        "  .then(({ result }) => console.log(JSON.stringify(result)));",
      ].join("\n"),
    );
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "run.ts")], {
      encoding: "utf8",
      env,
    });
    const result = JSON.parse(out) as SuiteResult;
    assert.equal(result.tests, 2);
    assert.equal(result.failed, 1);
    assert.deepEqual(
      result.failures.map((f) => [f.name, f.error.split("\n")[0]]),
      [["the door is shut", "AssertionError: port 8000 from the untrusted peer"]],
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
