// Shared by the booted-host test files: a booted host per test, removed after the file's tests,
// the seed's expected probe results, and the check that the machine itself was left alone.
import { after } from "node:test";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { BootedHost, bootedImage, type Variant } from "./bootedHost";
import type { Target } from "./netprobe";
import { mirrorRoot } from "../openclaw/openclawMirror";
import { caddyAptRoot } from "../https/caddyApt";
import { testOutputRoot } from "../https/output";
import { reportProbeRounds } from "./hostTest";

/** Returns a function that boots a fresh host; all of them are destroyed after the file. */
export function bootedPool(): (variant?: Variant) => Promise<BootedHost> {
  const made: BootedHost[] = [];
  reportProbeRounds();
  after(() => made.forEach((h) => h.destroy()));
  return (variant) => {
    const host = new BootedHost(variant);
    made.push(host);
    return host.create();
  };
}

/** Each port on the server, over IPv4 then IPv6. */
export function probeTargets(host: BootedHost, ports: number[]): Target[] {
  return ports.flatMap((port) => [
    { host: host.server.v4, port },
    { host: host.server.v6, port },
  ]);
}

/** The seed's final configuration as probes see it: SSH from anywhere, 8000 from the LAN over IPv4. */
export const SEED_PROBES = {
  ports: [22, 8000, 8001, 3306],
  trusted: ["open", "open", "open", "blocked", "blocked", "blocked", "blocked", "blocked"],
  untrusted: ["open", "open", "blocked", "blocked", "blocked", "blocked", "blocked", "blocked"],
};

/**
 * The machine's system directories: where a booted host, systemd-nspawn or a hardening step that
 * escaped its sandbox would write. Not the whole filesystem: the CI runner writes its own log
 * beside the checkout while the tests run, and that is not the tests' doing.
 */
const WATCHED = ((dirs: string[]) => {
  // On the root filesystem only (as `find / -xdev` looked before), each directory once.
  const rootDev = fs.statSync("/").dev;
  const real = [...new Set(dirs.filter((p) => fs.existsSync(p)).map((p) => fs.realpathSync(p)))];
  return real.filter(
    (p) => fs.statSync(p).dev === rootDev && !real.some((q) => q !== p && p.startsWith(`${q}/`)),
  );
})([
  "/etc",
  "/var",
  "/run",
  "/usr",
  "/opt",
  "/srv",
  "/root",
  "/home",
  "/boot",
  "/bin",
  "/sbin",
  "/lib",
  "/lib64",
]);
/**
 * Where, inside WATCHED, nothing is looked at: the kernel's, the checkouts under
 * /work, the temporary directory (every test's own directories are there), the image cache,
 * the OpenClaw mirrors' and the Caddy apt repository's caches (a test builds them when missing),
 * the HTTPS tests' output (screenshots), the machine's journal, npm's,
 * tsx's and pyenv's caches, Go's module cache and telemetry counters (the Go and Python program
 * tests run `go`, which fetches modules and counts its own runs), and the namespaces' mount points
 * and /etc/netns (each sandbox's own, named from its id).
 */
/** Where the `go` command writes for itself: its module cache and telemetry; none without go. */
function goDirs(): string[] {
  const r = spawnSync("go", ["env", "GOMODCACHE", "GOTELEMETRYDIR"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n").filter((d) => d !== "") : [];
}

const PRUNED = [
  "/proc",
  "/sys",
  "/dev",
  "/work",
  os.tmpdir(),
  process.env["OPENCLAW_BOOTED_CACHE"] ?? "/var/cache/openclaw-booted",
  mirrorRoot(),
  caddyAptRoot(),
  testOutputRoot(),
  "/var/log/journal",
  "/root/.npm",
  "/root/.cache",
  "/root/.pyenv",
  ...goDirs(),
  "/run/netns",
  "/etc/netns",
];
/**
 * What the namespace sandbox (Sandbox, sandbox.ts) writes on the machine for itself, while
 * other host suites run at the same time as this one: the lock of the ufw its tests run from
 * the machine (`ip netns exec`), and directories named from another sandbox's id.
 */
const OTHER_SANDBOXES = [/^\/run\/ufw\.lock$/, /openclaw-(sandbox|sbx)-[0-9a-f]{6}/];

function findOnMachine(tests: string[]): string[] {
  const args = [...WATCHED, "-xdev", "("];
  PRUNED.forEach((p, i) => args.push(...(i ? ["-o"] : []), "-path", p));
  args.push(")", "-prune", "-o", ...tests, "-print");
  return spawnSync("find", args, { encoding: "utf8", maxBuffer: 64 << 20 })
    .stdout.split("\n")
    .filter(Boolean);
}

/**
 * Starts watching the machine's own filesystems; `writes(host)` lists the files modified and
 * the directories made since, other than the host's own (its directory and namespaces) and
 * other sandboxes' (OTHER_SANDBOXES).
 */
export function watchMachine(): { writes: (host: BootedHost) => string[] } {
  bootedImage();
  const since = `@${Date.now() / 1000}`;
  const dirs = new Set(findOnMachine(["-type", "d"]));
  return {
    writes: (host) => {
      const mine = (p: string) => p.startsWith(host.dir) || p.includes(`oc${host.id}-`);
      return [
        ...findOnMachine(["!", "-type", "d", "-newermt", since]),
        ...findOnMachine(["-type", "d"]).filter((d) => !dirs.has(d)),
      ].filter((p) => !mine(p) && !OTHER_SANDBOXES.some((re) => re.test(p)));
    },
  };
}
