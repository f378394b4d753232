// The Python program of docs/multi-language.md (`<!-- program: python-program -->`), type-checked
// by pyright against the Python SDK that Pulumi's own code generator makes from schema.json (as
// `pulumi package add` does) and against Pulumi's Python SDK (its source, from the Pulumi Go
// module the tools use). pyright matches each dict the program passes with the SDK's TypedDicts,
// so a key or a value the SDK would not take fails. It does not run the program: the `pulumi`
// package's own dependencies (grpcio and the rest) come from PyPI, which this machine cannot reach.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";
import { docProgram } from "../support/markdown";
import { generateSdk, goMissing, moduleDir } from "../support/go/sdk";

const ROOT = path.join(__dirname, "..", "..");
const PYRIGHT = path.join(ROOT, "node_modules", ".bin", "pyright");

interface Diagnostic {
  readonly file: string;
  readonly severity: string;
  readonly message: string;
  readonly range: { readonly start: { readonly line: number } };
}

let scratch = "";
let sdk = "";
let pulumiPython = "";

before(() => {
  if (goMissing) return;
  scratch = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "openclaw-python-"));
  sdk = generateSdk(scratch, "python").dir;
  pulumiPython = path.join(moduleDir("github.com/pulumi/pulumi/sdk/v3"), "python", "lib");
});

after(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** pyright's errors and warnings on `program`, as "line: message" (1-based lines). */
function typeProblems(program: string): string[] {
  const dir = fs.mkdtempSync(path.join(scratch, "program-"));
  fs.writeFileSync(path.join(dir, "__main__.py"), program);
  fs.writeFileSync(
    path.join(dir, "pyrightconfig.json"),
    JSON.stringify({
      include: ["__main__.py"],
      extraPaths: [sdk, pulumiPython],
      pythonVersion: "3.11",
      typeCheckingMode: "standard",
    }),
  );
  const r = spawnSync(PYRIGHT, ["--outputjson"], { cwd: dir, encoding: "utf8" });
  const report = JSON.parse(r.stdout) as {
    generalDiagnostics: Diagnostic[];
    summary: { filesAnalyzed: number };
  };
  assert.equal(report.summary.filesAnalyzed, 1, `pyright analyzed no program: ${r.stderr}`);
  return report.generalDiagnostics
    .filter((d) => d.severity !== "information")
    .map((d) => `${d.range.start.line + 1}: ${d.message.split("\n")[0]}`);
}

test("the Python program type-checks against the SDK Pulumi generates and Pulumi's own", (t) => {
  if (goMissing) return cannotRun(t, goMissing);
  assert.deepEqual(typeProblems(docProgram(ROOT, "python-program").text), []);
});

test("pyright refuses a misspelt key, a value of the wrong type and a key in the wrong block", (t) => {
  if (goMissing) return cannotRun(t, goMissing);
  const program = docProgram(ROOT, "python-program").text;
  for (const [from, to, argument] of [
    ['"admin_cidrs"', '"admin_cidr"', "firewall"],
    ['"port": 443', '"port": "443"', "firewall"],
    ['"private_key"', '"public_key"', "ssh"],
    ['"server_type"', '"serverType"', "hcloud"],
  ] as const) {
    const broken = program.replace(from, to);
    assert.notEqual(broken, program, `the program has no ${from}`);
    const problems = typeProblems(broken);
    assert.equal(problems.length, 1, `${from} → ${to}: ${problems.join("; ")}`);
    assert.match(problems[0]!, new RegExp(`parameter "${argument}"`), `${from} → ${to}`);
  }
});

test("an import the SDKs do not have fails: pyright reads the generated package, not a guess", (t) => {
  if (goMissing) return cannotRun(t, goMissing);
  const program = docProgram(ROOT, "python-program").text;
  const problems = typeProblems(program.replace("import pulumi_openclaw_server", "import pulumi_openclaw"));
  assert.ok(
    problems.some((p) => /Import "pulumi_openclaw" could not be resolved/.test(p)),
    problems.join("; "),
  );
});
