// The Go program of docs/multi-language.md (`<!-- program: go-program -->`), compiled by the Go
// toolchain against the Go SDK that Pulumi's own code generator makes from schema.json (as
// `pulumi package add` does), and run under the Go SDK's mocks: what it asks the engine to
// register, sent on through construct(), must register exactly what the TypeScript constructor
// registers. The engine and the Go language host are not run (this machine cannot build them).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";
import { docProgram } from "../support/markdown";
import { PRIVATE_KEY, PUBLIC_KEY, TYPE, assertConstructMatchesTypeScript } from "../support/pulumi/docServer";

const ROOT = path.join(__dirname, "..", "..");
const TOOLS = path.join(ROOT, "test", "support", "go");
const PROJECT = "openclaw-go";

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly remote: boolean;
  readonly inputs: Record<string, unknown>;
  readonly secrets: string[];
}

/** Runs `go ARGS` in `cwd`; fails the test with go's own output when it fails. */
function go(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync("go", args, { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  assert.equal(r.status, 0, `go ${args.join(" ")} (in ${cwd}) failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const goMissing = spawnSync("go", ["version"]).error !== undefined;

describe("the docs' Go program", () => {
  let paths: { module: string; importPath: string };
  let registrations: Registration[];

  before(() => {
    if (goMissing) return;
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "openclaw-go-"));
    const sdk = path.join(dir, "sdk");
    const program = path.join(dir, "program");
    try {
      go(TOOLS, ["build", "-o", path.join(dir, "gensdk"), "./gensdk"]);
      const gen = spawnSync(path.join(dir, "gensdk"), [path.join(ROOT, "schema.json"), sdk], {
        encoding: "utf8",
      });
      assert.equal(gen.status, 0, `gensdk failed: ${gen.stderr}`);
      paths = JSON.parse(gen.stdout) as typeof paths;

      // The program's module, as `go mod init` and `pulumi package add` leave it: the SDK it
      // imports replaced by the generated one, and Pulumi's SDK at the version the tools use.
      fs.mkdirSync(program);
      fs.writeFileSync(path.join(program, "main.go"), docProgram(ROOT, "go-program").text);
      fs.copyFileSync(path.join(TOOLS, "harness", "record_test.go"), path.join(program, "record_test.go"));
      fs.copyFileSync(path.join(TOOLS, "go.sum"), path.join(program, "go.sum"));
      go(program, ["mod", "init", PROJECT]);
      go(program, ["mod", "edit", `-replace=${paths.module}=${sdk}`, `-require=${paths.module}@v0.0.0`]);
      go(program, ["mod", "edit", `-require=github.com/pulumi/pulumi/sdk/v3@${sdkVersion()}`]);
      go(program, ["mod", "tidy"]);
      go(program, ["vet", "."]);

      const out = path.join(dir, "registrations.json");
      go(program, ["test", "-count=1", "-tags", "openclawdocs", "-run", "^TestDeploy$", "."], {
        OPENCLAW_REGISTRATIONS: out,
        PULUMI_CONFIG: JSON.stringify({
          [`${PROJECT}:sshPublicKey`]: PUBLIC_KEY,
          [`${PROJECT}:sshPrivateKey`]: PRIVATE_KEY,
        }),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify([`${PROJECT}:sshPrivateKey`]),
      });
      registrations = JSON.parse(fs.readFileSync(out, "utf8")) as Registration[];
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("imports the package by the path Pulumi's code generator gives it", (t) => {
    if (goMissing) return cannotRun(t, "no `go` command (Go 1.26 or later builds the Go SDK)");
    assert.equal(paths.importPath, "example.com/pulumi-openclaw-server/sdk/go/openclawserver");
    assert.match(docProgram(ROOT, "go-program").text, new RegExp(`"${paths.importPath}"`));
  });

  test("registers one OpenClawServer, as a remote component, with the private key a secret", (t) => {
    if (goMissing) return cannotRun(t, "no `go` command (Go 1.26 or later builds the Go SDK)");
    assert.deepEqual(
      registrations.map((r) => [r.type, r.name, r.custom, r.remote, r.secrets]),
      [[TYPE, "edge", false, true, ["ssh.privateKey"]]],
    );
  });

  test("its inputs, through construct(), register what the TypeScript constructor registers", async (t) => {
    if (goMissing) return cannotRun(t, "no `go` command (Go 1.26 or later builds the Go SDK)");
    const [edge] = registrations;
    await assertConstructMatchesTypeScript(edge!.name, edge!.inputs);
  });
});

/** The Pulumi Go SDK version the tools' go.mod requires. */
function sdkVersion(): string {
  const goMod = fs.readFileSync(path.join(TOOLS, "go.mod"), "utf8");
  const m = /github\.com\/pulumi\/pulumi\/sdk\/v3 (v\S+)/.exec(goMod);
  assert.ok(m, "test/support/go/go.mod requires github.com/pulumi/pulumi/sdk/v3");
  return m[1]!;
}
