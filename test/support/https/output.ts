// Where a test writes what a person looks at afterwards (screenshots): test-output/<suite>/ at
// the checkout's root, or under OPENCLAW_TEST_OUTPUT. Not removed by the tests; ignored by git.
import * as fs from "node:fs";
import * as path from "node:path";

/** Where every suite's output directory is. */
export function testOutputRoot(): string {
  return process.env["OPENCLAW_TEST_OUTPUT"] ?? path.resolve(__dirname, "../../../test-output");
}

/** The output directory of suite `suite`, made if missing. */
export function testOutputDir(suite: string): string {
  const dir = path.join(testOutputRoot(), suite);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
