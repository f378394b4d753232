// The Python program of docs/multi-language.md (`<!-- program: python-program -->`). This machine
// has no PyPI, so nothing runs it: python3 parses it, and every keyword and dict key it passes to
// OpenClawServer must be the snake_case of a schema property at that place, as the SDK that
// `pulumi package add` generates names them. Values, types and the SDK itself are not checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";
import { docProgram } from "../support/markdown";

const ROOT = path.join(__dirname, "..", "..");

interface Property {
  readonly type?: string;
  readonly $ref?: string;
  readonly items?: Property;
  readonly additionalProperties?: Property;
}
interface Schema {
  readonly resources: Record<string, { readonly inputProperties: Record<string, Property> }>;
  readonly types: Record<string, { readonly properties?: Record<string, Property> }>;
}

// Every keyword of each OpenClawServer(...) call and every literal dict key below it, as a path:
// ["firewall", "ssh", "admin_cidrs"]; "[]" steps into a list's items. A key that is not a string
// literal is reported as null.
const KEY_PATHS = String.raw`
import ast, json, sys
tree = ast.parse(sys.stdin.read())
calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
         getattr(n.func, "attr", getattr(n.func, "id", None)) == "OpenClawServer"]
paths = []
def walk(node, at):
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values):
            key = k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None
            paths.append(at + [key])
            walk(v, at + [key])
    elif isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            walk(e, at + ["[]"])
for call in calls:
    for kw in call.keywords:
        paths.append([kw.arg])
        walk(kw.value, [kw.arg])
print(json.dumps({"calls": len(calls), "paths": paths}))
`;

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** What is wrong with each key path of `program`, as the SDK's snake_case of the schema sees it. */
function keyProblems(program: string, schema: Schema): { calls: number; problems: string[] } {
  const r = spawnSync("python3", ["-c", KEY_PATHS], { input: program, encoding: "utf8" });
  assert.equal(r.status, 0, `python3 could not parse the program: ${r.stderr}`);
  const { calls, paths } = JSON.parse(r.stdout) as { calls: number; paths: (string | null)[][] };
  const resource = Object.values(schema.resources)[0]!;
  const propsOf = (p: Property | undefined) =>
    p?.$ref ? schema.types[p.$ref.replace(/^#\/types\//, "")]?.properties : undefined;
  const problems: string[] = [];
  for (const at of paths) {
    let props: Record<string, Property> | undefined = resource.inputProperties;
    let here: Property | undefined;
    for (const [i, key] of at.entries()) {
      const where = at.slice(0, i + 1).join(".");
      if (key === "opts" && i === 0) break; // Pulumi's resource options, not an arg
      if (here?.additionalProperties) break; // a map: its keys are the program's own
      if (key === "[]") {
        here = here?.type === "array" ? here.items : undefined;
        props = propsOf(here);
        continue;
      }
      const match = Object.entries(props ?? {}).find(([name]) => snake(name) === key);
      if (!match) {
        const known = Object.keys(props ?? {}).map(snake);
        problems.push(`${where}: no schema property is ${String(key)} here (known: ${known.join(", ")})`);
        break;
      }
      here = match[1];
      props = propsOf(here);
    }
  }
  return { calls, problems };
}

const schema = () => JSON.parse(fs.readFileSync(path.join(ROOT, "schema.json"), "utf8")) as Schema;
const pythonMissing = () => spawnSync("python3", ["--version"]).status !== 0;

test("the Python program passes OpenClawServer only keys the schema has, in snake_case", (t) => {
  if (pythonMissing()) return cannotRun(t, "python3 is not installed");
  const { calls, problems } = keyProblems(docProgram(ROOT, "python-program").text, schema());
  assert.equal(calls, 1, "the program constructs one OpenClawServer");
  assert.deepEqual(problems, []);
});

test("the check catches a misspelt key, a camelCase key and a key in the wrong block", (t) => {
  if (pythonMissing()) return cannotRun(t, "python3 is not installed");
  const program = docProgram(ROOT, "python-program").text;
  const broken = program
    .replace('"admin_cidrs"', '"admin_cidr"')
    .replace('"server_type"', '"serverType"')
    .replace('"private_key"', '"public_key"');
  assert.notEqual(broken, program);
  assert.deepEqual(
    keyProblems(broken, schema()).problems.map((p) => p.split(":")[0]),
    ["firewall.ssh.admin_cidr", "hcloud.serverType", "ssh.public_key"],
  );
});
