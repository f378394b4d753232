// A scratch consumer project, as a user makes one with `pulumi new typescript` and then
// `npm install openclaw-server`: the template's Pulumi.yaml, package.json and tsconfig.json
// (github:pulumi/templates, typescript/), this package from its `npm pack` tarball, and a program
// as index.ts (the tests give it the README's).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { npm, npmCacheFirst } from "./npm";

export const ROOT = path.join(__dirname, "..", "..", "..");

/**
 * typescript/tsconfig.json of github:pulumi/templates, verbatim but for `module` and
 * `moduleResolution`: "nodenext" since commit 81e6522 (2026-03-25), "commonjs" and "node" from
 * a3029400 (2024-04-12) until then, which is what most existing projects still have.
 */
export function templateTsconfig(modules: "nodenext" | "commonjs"): string {
  return JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        outDir: "bin",
        target: "es2020",
        module: modules,
        moduleResolution: modules === "nodenext" ? "nodenext" : "node",
        sourceMap: true,
        experimentalDecorators: true,
        pretty: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
      },
      files: ["index.ts"],
    },
    null,
    4,
  );
}

export interface Packed {
  readonly tarball: string;
  readonly files: string[];
}

/**
 * `npm pack` into `dir`: of this repository (its `prepare` builds dist/), or of `spec`, such as a
 * git URL, which npm fetches as it does a dependency. Offline from the npm cache if it can.
 */
export function pack(dir: string, spec?: string): Packed {
  const out = npmCacheFirst(["pack", "--json", "--pack-destination", dir, ...(spec ? [spec] : [])], ROOT);
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dir, info!.filename), files: info!.files.map((f) => f.path) };
}

/** What is wrong with a tarball's file list: anything but the build, or a missing asset. */
export function tarballProblems(files: string[]): string[] {
  const problems = files
    .filter(
      (f) => !f.startsWith("dist/") && !["package.json", "README.md", "CHANGELOG.md", "LICENSE"].includes(f),
    )
    .map((f) => `${f} is not part of the package`);
  for (const f of ["dist/index.js", "dist/index.d.ts", "dist/OpenClawServer.d.ts", "LICENSE"]) {
    if (!files.includes(f)) problems.push(`${f} is missing`);
  }
  problems.push(
    ...files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => `${f}: a TypeScript source`),
  );
  // Every file the components read at run time (anything not TypeScript) ships beside the JS.
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) return walk(file);
      return e.name.endsWith(".ts") ? [] : [path.relative(path.join(ROOT, "components"), file)];
    });
  const assets = walk(path.join(ROOT, "components"));
  if (!assets.includes(path.join("hardening", "hardening.sh")))
    problems.push("no host scripts found in components/");
  for (const a of assets) if (!files.includes(`dist/${a}`)) problems.push(`dist/${a} is missing`);
  return problems;
}

/**
 * Writes the consumer project into `dir`: the template's Pulumi.yaml and package.json
 * (typescript/ of github:pulumi/templates, ${PROJECT} = consumer), asking for @pulumi/pulumi at
 * `sdk` and for this package from `tarball`, with `program` as index.ts. @types/node follows this
 * package's engines (Node 20) rather than the template's ^18.
 */
function writeConsumer(dir: string, tarball: string, program: string, sdk: string): Record<string, unknown> {
  if (path.dirname(tarball) !== dir) fs.copyFileSync(tarball, path.join(dir, path.basename(tarball)));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    "name: consumer\ndescription: A consumer of openclaw-server\nruntime: nodejs\n",
  );
  const manifest = {
    name: "consumer",
    main: "index.ts",
    devDependencies: { "@types/node": "^20", typescript: "^5.0.0" },
    dependencies: { "@pulumi/pulumi": sdk, "openclaw-server": `file:${path.basename(tarball)}` },
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 4));
  fs.writeFileSync(path.join(dir, "index.ts"), program);
  return manifest;
}

/**
 * The consumer project in `dir`, installed. The lockfile pins every package to the version this
 * repository's package-lock.json tested, so `npm ci --offline` installs from the npm cache that
 * `npm ci` here filled; with a package missing from the cache it falls back to the registry.
 */
export function makeConsumer(dir: string, tarball: string, program: string): void {
  const manifest = writeConsumer(dir, tarball, program, "^3.113.0");
  fs.writeFileSync(
    path.join(dir, "package-lock.json"),
    JSON.stringify(consumerLock(manifest, tarball), null, 2),
  );
  npmCacheFirst(["ci", "--no-audit", "--no-fund", "--ignore-scripts"], dir);
}

/**
 * The consumer project in `dir`, asking for @pulumi/pulumi at exactly `sdk`, installed with
 * `npm install` as a user does: npm resolves every range itself (no lockfile), from its cache
 * where it can, else from the registry.
 */
export function makeSdkConsumer(dir: string, tarball: string, program: string, sdk: string): void {
  writeConsumer(dir, tarball, program, sdk);
  npm(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"], dir);
}

/** Every version of `name` installed anywhere in the project at `dir`, as `npm ls` reads them. */
export function installedVersions(dir: string, name: string): string[] {
  interface Tree {
    version?: string;
    dependencies?: Record<string, Tree>;
  }
  const tree = JSON.parse(npm(["ls", name, "--all", "--json"], dir)) as Tree;
  const versions = new Set<string>();
  const walk = (deps: Record<string, Tree> = {}) => {
    for (const [dep, node] of Object.entries(deps)) {
      if (dep === name && node.version) versions.add(node.version);
      walk(node.dependencies);
    }
  };
  walk(tree.dependencies);
  return [...versions].sort();
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

/** This repository's runtime packages plus typescript and @types/node, at their locked versions. */
function consumerLock(manifest: Record<string, unknown>, tarball: string): Record<string, unknown> {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const own = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as LockEntry & {
    name: string;
    license: string;
  };
  const wanted = new Set([
    "node_modules/typescript",
    "node_modules/@types/node",
    "node_modules/undici-types",
  ]);
  const packages: Record<string, LockEntry> = { "": manifest as LockEntry };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === "" || (entry.dev && !wanted.has(key))) continue;
    // Every package is installed in the consumer, so none is marked dev-only.
    const copy = { ...entry };
    delete copy.dev;
    delete copy.devOptional;
    delete copy.peer;
    packages[key] = copy;
  }
  const integrity = `sha512-${crypto.createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")}`;
  packages["node_modules/openclaw-server"] = {
    version: own.version!,
    resolved: `file:${path.basename(tarball)}`,
    integrity,
    license: own.license,
    dependencies: own.dependencies!,
    peerDependencies: own["peerDependencies"],
    engines: own["engines"],
  };
  return { name: "consumer", lockfileVersion: 3, requires: true, packages };
}
