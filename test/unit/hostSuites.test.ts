// Every host suite decides whether it can run through hostSuiteSkip, which turns "cannot run"
// into a failure under CI=true: a suite that skipped on its own would pass CI having run nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const HOST = path.join(__dirname, "../host");

test("every host suite skips only through hostSuiteSkip", () => {
  const files = fs.readdirSync(HOST).filter((f) => f.endsWith(".test.ts"));
  assert.ok(files.length >= 10, `expected the host suites in ${HOST}, found ${files.join(", ")}`);
  for (const file of files) {
    const text = fs.readFileSync(path.join(HOST, file), "utf8");
    const skips = [...text.matchAll(/\{ skip(?::[^}]*)? \}/g)];
    assert.ok(skips.length > 0, `${file}: no describe(..., { skip }) found`);
    assert.match(text, /^const skip = hostSuiteSkip\(/m, `${file}: skip must come from hostSuiteSkip`);
  }
});
