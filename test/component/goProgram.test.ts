// The Go program of docs/multi-language.md (`<!-- program: go-program -->`), compiled by the Go
// toolchain against the Go SDK that Pulumi's own code generator makes from schema.json (as
// `pulumi package add` does), and run under the Go SDK's mocks: what it asks the engine to
// register, sent on through construct(), must register exactly what the TypeScript constructor
// registers. The engine and the Go language host are not run (this machine cannot build them).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cannotRun } from "../support/cannotRun";
import { docProgram } from "../support/markdown";
import { PRIVATE_KEY, PUBLIC_KEY, TYPE, assertConstructMatchesTypeScript } from "../support/pulumi/docServer";
import { TOOLS, generateSdk, go, goMissing, moduleVersion } from "../support/go/sdk";

const ROOT = path.join(__dirname, "..", "..");
const PROJECT = "openclaw-go";

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly remote: boolean;
  readonly inputs: Record<string, unknown>;
  readonly secrets: string[];
}

describe("the docs' Go program", () => {
  let importPath: string | undefined;
  let registrations: Registration[];

  before(() => {
    if (goMissing) return;
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "openclaw-go-"));
    const program = path.join(dir, "program");
    try {
      const sdk = generateSdk(dir, "go");
      importPath = sdk.importPath;

      // The program's module, as `go mod init` and `pulumi package add` leave it: the SDK it
      // imports replaced by the generated one, and Pulumi's SDK at the version the tools use.
      fs.mkdirSync(program);
      fs.writeFileSync(path.join(program, "main.go"), docProgram(ROOT, "go-program").text);
      fs.copyFileSync(path.join(TOOLS, "harness", "record_test.go"), path.join(program, "record_test.go"));
      fs.copyFileSync(path.join(TOOLS, "go.sum"), path.join(program, "go.sum"));
      go(program, ["mod", "init", PROJECT]);
      go(program, ["mod", "edit", `-replace=${sdk.module}=${sdk.dir}`, `-require=${sdk.module}@v0.0.0`]);
      const pulumiSdk = "github.com/pulumi/pulumi/sdk/v3";
      go(program, ["mod", "edit", `-require=${pulumiSdk}@${moduleVersion(pulumiSdk)}`]);
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
    if (goMissing) return cannotRun(t, goMissing);
    assert.equal(importPath, "example.com/pulumi-openclaw-server/sdk/go/openclawserver");
    assert.match(docProgram(ROOT, "go-program").text, new RegExp(`"${importPath}"`));
  });

  test("registers one OpenClawServer, as a remote component, with the private key a secret", (t) => {
    if (goMissing) return cannotRun(t, goMissing);
    assert.deepEqual(
      registrations.map((r) => [r.type, r.name, r.custom, r.remote, r.secrets]),
      [[TYPE, "edge", false, true, ["ssh.privateKey"]]],
    );
  });

  test("its inputs, through construct(), register what the TypeScript constructor registers", async (t) => {
    if (goMissing) return cannotRun(t, goMissing);
    const [edge] = registrations;
    await assertConstructMatchesTypeScript(edge!.name, edge!.inputs);
  });
});
