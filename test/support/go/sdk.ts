// The SDKs `pulumi package add` would generate from schema.json, made here by Pulumi's own code
// generators through test/support/go/gensdk, for the tests of the docs' Go and Python programs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..", "..");
/** The Go module of the tools (gensdk, the Go harness). */
export const TOOLS = path.join(ROOT, "test", "support", "go");

/** Why the SDKs cannot be made on this machine, or undefined when they can. */
export const goMissing: string | undefined =
  spawnSync("go", ["version"]).error === undefined
    ? undefined
    : "no `go` command (Go 1.26 or later runs Pulumi's code generators)";

/** Runs `go ARGS` in `cwd`; fails the test with go's own output when it fails. */
export function go(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync("go", args, { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  assert.equal(r.status, 0, `go ${args.join(" ")} (in ${cwd}) failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface Sdk {
  /** Where the SDK was written. */
  readonly dir: string;
  /** Go: the SDK's module path and its root package's import path. */
  readonly module?: string;
  readonly importPath?: string;
  /** Python: the package's name. */
  readonly package?: string;
}

/** Writes the `language` SDK of schema.json under `scratch`/sdk-`language`. */
export function generateSdk(scratch: string, language: "go" | "python"): Sdk {
  const gensdk = path.join(scratch, "gensdk");
  if (!fs.existsSync(gensdk)) go(TOOLS, ["build", "-o", gensdk, "./gensdk"]);
  const dir = path.join(scratch, `sdk-${language}`);
  const r = spawnSync(gensdk, ["-language", language, path.join(ROOT, "schema.json"), dir], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `gensdk -language ${language} failed: ${r.stderr}`);
  return { dir, ...(JSON.parse(r.stdout) as Omit<Sdk, "dir">) };
}

/** The directory of `module` as the tools' go.mod requires it, in Go's module cache. */
export function moduleDir(module: string): string {
  return go(TOOLS, ["list", "-m", "-f", "{{.Dir}}", module]).trim();
}

/** The version of `module` the tools' go.mod requires. */
export function moduleVersion(module: string): string {
  return go(TOOLS, ["list", "-m", "-f", "{{.Version}}", module]).trim();
}
