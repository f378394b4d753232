// The package as a user gets it, and the programs as `pulumi up` loads them: `npm pack`, installed
// into a scratch project made from the `pulumi new typescript` template, whose program is the
// README's TypeScript program (`<!-- program: typescript-program -->`); then that program and this
// repository's own index.ts (each stack in stacks/) are run by Pulumi's own cmd/run, under
// Pulumi's ts-node and mocks (test/support/pulumi/pulumiRun.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { minVersion } from "semver";
import { parse as parseYaml } from "yaml";
import {
  ROOT,
  installedVersions,
  makeConsumer,
  makeSdkConsumer,
  pack,
  tarballProblems,
  templateTsconfig,
  type Packed,
} from "../support/pulumi/consumer";
import { docProgram } from "../support/markdown";
import { nodeBinary } from "../support/pulumi/nodeRuntime";
import { type EngineRegistration, pulumiRun } from "../support/pulumi/pulumiRun";
import { promiseOf, recordParents, registrations, reset, useStackConfig } from "../support/pulumi/mocks";
import { runStack } from "../../components/stack/program";
import { DEFAULT_NODE_VERSION } from "../../components/openclaw/types";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nCONSUMERTEST\n-----END OPENSSH PRIVATE KEY-----\n";
const VENDORED_TS_NODE = path.join("@pulumi", "pulumi", "vendor", "ts-node@7.0.1", "index.js");
const STACKS = fs
  .readdirSync(path.join(ROOT, "stacks"))
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined);

/** `type name <- parentType::parentName`, the parent read from the URN the engine received. */
function shape(r: EngineRegistration): string {
  const parent = r.parent?.split("::");
  const parentName = parent ? `${parent[2]!.split("$").at(-1)}::${parent[3]}` : "(none)";
  return `${r.type} ${r.name} <- ${parentName}`;
}

/** What the README's program registers, as the engine sees it. */
const README_PROGRAM = [
  "command:local:Command agent-host-key <- openclaw-server:index:OpenClawServer::agent",
  "command:local:Command agent-wait-ssh <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-authorize-key <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-confirm <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-harden <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-openclaw <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-openclaw-remove <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-openclaw-verify <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-proxy <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-proxy-verify <- openclaw-server:index:OpenClawServer::agent",
  "command:remote:Command agent-verify <- openclaw-server:index:OpenClawServer::agent",
  "hcloud:index/firewall:Firewall agent-firewall <- openclaw-server:index:OpenClawServer::agent",
  "hcloud:index/server:Server agent-server <- openclaw-server:index:OpenClawServer::agent",
  "hcloud:index/sshKey:SshKey agent-key <- openclaw-server:index:OpenClawServer::agent",
  "openclaw-server:index:OpenClawServer agent <- pulumi:pulumi:Stack::consumer-dev",
  "pulumi:pulumi:Stack consumer-dev <- (none)",
  "random:index/randomPassword:RandomPassword agent-gateway-token <- openclaw-server:index:OpenClawServer::agent",
];

const work = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-consumer-"));
after(() => fs.rmSync(work, { recursive: true, force: true }));
let packed: Packed | undefined;
/** The tarball, packed once for the suites that need it. */
const tarball = (): Packed => (packed ??= pack(work));

describe("the npm package", () => {
  test("holds the build, its declarations and the host scripts, and no tests, benchmarks or CI", () => {
    assert.deepEqual(tarballProblems(tarball().files), []);
  });
});

describe("a consumer project from the `pulumi new typescript` template", () => {
  let consumer: string;
  before(() => {
    consumer = path.join(work, "consumer");
    fs.mkdirSync(consumer);
    makeConsumer(consumer, tarball().tarball, docProgram(ROOT, "typescript-program").text);
  });

  for (const modules of ["commonjs", "nodenext"] as const) {
    test(`runs the README's program under Pulumi's ts-node, type-checked (module: ${modules})`, async () => {
      fs.writeFileSync(path.join(consumer, "tsconfig.json"), templateTsconfig(modules));
      const run = await pulumiRun({
        project: consumer,
        stack: "dev",
        config: { "consumer:sshPublicKey": "ssh-ed25519 AAAAC3Nza consumer", "consumer:sshPrivateKey": KEY },
        secretKeys: ["consumer:sshPrivateKey"],
      });
      // Pulumi's choice of loader: its vendored ts-node, the project's typescript, type-checking
      // on (the template's tsconfig has no noCheck).
      assert.ok(run.tsNode.endsWith(VENDORED_TS_NODE), run.tsNode);
      assert.equal(run.typescript, path.join("node_modules", "typescript", "lib", "typescript.js"));
      assert.deepEqual(run.registrations.map(shape).sort(), README_PROGRAM);
      assert.deepEqual(run.outputs, ["ssh", "url"]);
      // The package's JavaScript ran (not its sources), and no AWS SDK for a Hetzner server.
      assert.ok(run.loadedPackages.includes("openclaw-server"));
      assert.ok(!run.loadedPackages.includes("@pulumi/aws"), `loaded: ${run.loadedPackages.join(", ")}`);
    });
  }

  test("a type error in the consumer's program fails the run, as `pulumi up` would", async () => {
    fs.writeFileSync(path.join(consumer, "tsconfig.json"), templateTsconfig("nodenext"));
    const program = fs.readFileSync(path.join(consumer, "index.ts"), "utf8");
    try {
      fs.writeFileSync(path.join(consumer, "index.ts"), program.replace('location: "fsn1"', "location: 1"));
      await assert.rejects(
        pulumiRun({
          project: consumer,
          stack: "dev",
          config: {
            "consumer:sshPublicKey": "ssh-ed25519 AAAAC3Nza consumer",
            "consumer:sshPrivateKey": KEY,
          },
          secretKeys: ["consumer:sshPrivateKey"],
        }),
        /Unable to compile TypeScript[\s\S]*index\.ts\(\d+,\d+\): error TS2322/,
      );
    } finally {
      fs.writeFileSync(path.join(consumer, "index.ts"), program);
    }
  });
});

/** The @pulumi/pulumi versions a consumer may bring: this package's peer range, its lowest. */
const PEER_RANGE = (
  JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    peerDependencies: Record<string, string>;
  }
).peerDependencies["@pulumi/pulumi"]!;
const OLDEST_SDK = minVersion(PEER_RANGE)!.version;
/** npm's `latest` of @pulumi/pulumi on 2026-12-03; it needs Node 22 or later. */
const NEWEST_SDK = "3.276.0";
/** The Node.js that the newest SDK runs on here: the one OpenClaw's hosts get. */
const NEWEST_NODE = DEFAULT_NODE_VERSION;

describe("the consumer's own @pulumi/pulumi serves the package and its providers: one copy", () => {
  const cases = [
    {
      label: `the oldest supported, ${OLDEST_SDK}, on Node ${process.versions.node}`,
      sdk: OLDEST_SDK,
      nodeVersion: process.versions.node,
      node: () => process.execPath,
    },
    {
      label: `the newest, ${NEWEST_SDK}, on Node ${NEWEST_NODE}`,
      sdk: NEWEST_SDK,
      nodeVersion: NEWEST_NODE,
      node: () => nodeBinary(NEWEST_NODE, work),
    },
  ];
  for (const c of cases) {
    test(c.label, async () => {
      const dir = path.join(work, `sdk-${c.sdk}`);
      fs.mkdirSync(dir);
      makeSdkConsumer(dir, tarball().tarball, docProgram(ROOT, "typescript-program").text, c.sdk);
      assert.deepEqual(installedVersions(dir, "@pulumi/pulumi"), [c.sdk]);
      fs.writeFileSync(path.join(dir, "tsconfig.json"), templateTsconfig("nodenext"));
      const run = await pulumiRun({
        project: dir,
        stack: "dev",
        node: c.node(),
        config: { "consumer:sshPublicKey": "ssh-ed25519 AAAAC3Nza consumer", "consumer:sshPrivateKey": KEY },
        secretKeys: ["consumer:sshPrivateKey"],
      });
      assert.deepEqual(run.registrations.map(shape).sort(), README_PROGRAM);
      assert.deepEqual(run.outputs, ["ssh", "url"]);
      assert.equal(run.node, `v${c.nodeVersion}`);
      assert.deepEqual(run.sdkCopies, [path.join("node_modules", "@pulumi", "pulumi")]);
    });
  }
});

describe("this repository's index.ts, loaded as `pulumi up` loads it (Pulumi.yaml's runtime options)", () => {
  test("Pulumi.yaml picks a tsconfig whose noCheck makes Pulumi's ts-node transpile only", async () => {
    const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
      runtime: { options: { tsconfig?: string } };
    };
    const tsconfig = project.runtime.options.tsconfig;
    assert.ok(tsconfig, "Pulumi.yaml sets no runtime.options.tsconfig");
    // cmd/run decides transpile-only from exactly this: the file's own compilerOptions.noCheck.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tsutils = require("@pulumi/pulumi/tsutils") as {
      loadTypeScriptCompilerOptions(file: string): Record<string, unknown>;
    };
    assert.equal(tsutils.loadTypeScriptCompilerOptions(path.join(ROOT, tsconfig)).noCheck, true);
  });

  for (const stack of STACKS) {
    test(`stack ${stack}: registers what the program registers under the test mocks`, async () => {
      useStackConfig(stack, KEY);
      reset();
      const server = runStack(undefined, { transformations: [recordParents] });
      await promiseOf(pulumi.all([server.hostFirewallStatus, server.sshCommand, server.openclawVersion]));
      const expected = registrations.map((r) => {
        const parent = r.parent ?? `pulumi:pulumi:Stack::openclaw-${stack}`;
        return `${r.type} ${r.name} <- ${parent}`;
      });

      const config = parseYaml(
        fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8"),
      ) as { config: Record<string, unknown> };
      const run = await pulumiRun({
        project: ROOT,
        stack,
        config: { ...config.config, "openclaw:sshPrivateKey": KEY },
        secretKeys: ["openclaw:sshPrivateKey"],
      });
      assert.ok(run.tsNode.endsWith(VENDORED_TS_NODE), run.tsNode);
      const [top, ...rest] = run.registrations.map(shape);
      assert.equal(top, `pulumi:pulumi:Stack openclaw-${stack} <- (none)`);
      assert.deepEqual(rest.sort(), expected.sort());
      assert.ok(rest.length >= 3, `only ${rest.length} resources`);
      // Only the provider SDK of the stack's target is loaded.
      const target = String(config.config["openclaw:target"]);
      for (const sdk of ["aws", "hcloud"]) {
        assert.equal(
          run.loadedPackages.includes(`@pulumi/${sdk}`),
          sdk === target,
          `@pulumi/${sdk} (target ${target})`,
        );
      }
    });
  }
});
