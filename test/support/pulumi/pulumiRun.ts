// Runs a Pulumi project's program the way `pulumi up` does, without the CLI: the process that
// Pulumi's Node.js language host starts (pulumi-language-nodejs, execRuntime and
// constructArguments), `node [nodeargs] <project>/node_modules/@pulumi/pulumi/cmd/run --monitor
// ... --project P --stack S --pwd DIR <entry point>`, with the stack's config in PULUMI_CONFIG
// and Pulumi.yaml's runtime options (typescript, tsconfig, nodeargs) turned into the same
// environment variables and arguments. cmd/run then picks ts-node (the project's, or the one
// vendored in @pulumi/pulumi) and the project's typescript, decides type-checking from the
// tsconfig's `noCheck`, and loads the program: all of that is Pulumi's code, run unchanged.
// The engine is the one stand-in: test/support/pulumi/mockEngine.cjs, preloaded.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface EngineRegistration {
  readonly type: string;
  readonly name: string;
  /** The parent's URN as the engine receives it; the stack for top-level resources. */
  readonly parent?: string;
  readonly custom: boolean;
}

export interface PulumiRun {
  /** Milliseconds from the process's start until cmd/run signalled that every resource registered. */
  readonly registeredMs: number;
  /** CPU time (user and system) the process had used by then: less sensitive to a busy machine. */
  readonly cpuMs: number;
  /** The Node.js version that ran the program. */
  readonly node: string;
  /** Each copy of @pulumi/pulumi the program loaded, relative to its directory. */
  readonly sdkCopies: string[];
  readonly registrations: EngineRegistration[];
  /** The stack's output names. */
  readonly outputs: string[];
  /** The `@pulumi/*` packages (and openclaw-server) the program loaded. */
  readonly loadedPackages: string[];
  /** The ts-node and typescript that cmd/run registered, relative to the program directory. */
  readonly tsNode: string;
  readonly typescript: string;
  readonly stderr: string;
}

export interface PulumiRunOptions {
  /** The directory holding Pulumi.yaml. */
  readonly project: string;
  readonly stack: string;
  /** Config as in a stack file (`ns:key: value`); objects are passed as JSON, as the CLI does. */
  readonly config: Record<string, unknown>;
  readonly secretKeys?: string[];
  /** Replaces Pulumi.yaml's runtime options (e.g. `{ tsconfig: undefined }`: type-checked). */
  readonly runtimeOptions?: Record<string, unknown>;
  /** ts-node's cache; a new empty one when unset. */
  readonly tsNodeCache?: string;
  readonly env?: Record<string, string>;
  /** The node binary that runs the program; this process's own when unset. */
  readonly node?: string;
}

interface ProjectFile {
  name: string;
  main?: string;
  runtime: string | { name: string; options?: Record<string, unknown> };
}

/** The language host's command line and environment for this project and stack. */
export function pulumiCommand(opts: PulumiRunOptions): {
  args: string[];
  env: Record<string, string>;
  cwd: string;
} {
  const project = parseYaml(fs.readFileSync(path.join(opts.project, "Pulumi.yaml"), "utf8")) as ProjectFile;
  const options = {
    ...(typeof project.runtime === "string" ? {} : project.runtime.options),
    ...opts.runtimeOptions,
  };
  // Pulumi.yaml's `main`: a file is split into its directory and the entry point's name.
  const main = path.resolve(opts.project, project.main ?? ".");
  const isFile = project.main !== undefined && fs.statSync(main).isFile();
  const programDir = isFile ? path.dirname(main) : main;
  const entryPoint = isFile ? path.basename(main) : ".";
  const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDir] });

  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.config)) {
    // The language host hands the runtime `<namespace>:config:<name>` keys.
    const [ns, name] = key.split(/:(.*)/s) as [string, string];
    config[`${ns}:config:${name}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const env: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys ?? []),
    TS_NODE_CACHE_DIRECTORY: opts.tsNodeCache ?? fs.mkdtempSync(path.join(os.tmpdir(), "ts-node-cache-")),
    NODE_OPTIONS: `--require ${path.join(__dirname, "mockEngine.cjs")}`,
    ...opts.env,
  };
  if (options["typescript"] !== false) env["PULUMI_NODEJS_TYPESCRIPT"] = "true";
  if (typeof options["tsconfig"] === "string") env["PULUMI_NODEJS_TSCONFIG_PATH"] = options["tsconfig"];
  const nodeargs =
    typeof options["nodeargs"] === "string" ? options["nodeargs"].split(/\s+/).filter(Boolean) : [];
  const args = [
    ...nodeargs,
    runPath,
    ...["--monitor", "mock", "--project", project.name, "--root-directory", opts.project],
    ...["--stack", opts.stack, "--pwd", programDir, "--parallel", "16", entryPoint],
  ];
  return { args, env, cwd: programDir };
}

/** Runs the program under mocks and resolves with what the engine saw; rejects if it fails. */
export function pulumiRun(opts: PulumiRunOptions): Promise<PulumiRun> {
  const { args, env, cwd } = pulumiCommand(opts);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mock-engine-")), "report.json");
  // Only the variables a shell would pass on; none of this test runner's own loader flags.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("PULUMI_") && !k.startsWith("TS_NODE_") && k !== "NODE_OPTIONS",
    ),
  );
  const child = spawn(opts.node ?? process.execPath, args, {
    cwd,
    env: { ...base, ...env, MOCK_ENGINE_REPORT: report },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const written = fs.existsSync(report);
      const result = written
        ? (JSON.parse(fs.readFileSync(report, "utf8")) as Omit<PulumiRun, "stderr">)
        : undefined;
      fs.rmSync(path.dirname(report), { recursive: true, force: true });
      if (env["TS_NODE_CACHE_DIRECTORY"] !== opts.tsNodeCache)
        fs.rmSync(env["TS_NODE_CACHE_DIRECTORY"]!, { recursive: true, force: true });
      if (code !== 0 || !result) {
        reject(new Error(`pulumi program in ${cwd} (stack ${opts.stack}) exited with ${code}:\n${output}`));
      } else resolve({ ...result, stderr: output });
    });
  });
}
