// Caddy for the booted hosts, from a local signed apt repository: Debian's own caddy and the
// dependencies the booted image lacks, built once per machine by build-caddy-apt.sh (cached in
// /var/cache/openclaw-caddy-apt) and served inside a test's network namespace, as the Node apt
// source is (openclawMirror.ts). No host reaches Debian's mirrors.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bootedImage } from "../host/bootedHost";

const BUILD = path.join(__dirname, "build-caddy-apt.sh");
const SERVER = path.join(__dirname, "serve-dir.ts");
/** Where the source line says apt finds the repository's key on the host. */
export const CADDY_KEYRING = "/usr/share/keyrings/openclaw-test-caddy.asc";

/** Where the builds are cached; OPENCLAW_CADDY_APT_CACHE moves it. */
export function caddyAptRoot(): string {
  return process.env["OPENCLAW_CADDY_APT_CACHE"] ?? "/var/cache/openclaw-caddy-apt";
}

export interface CaddyRepository {
  /** The cache directory: repo/ (a flat repository), key.asc, other-key.asc. */
  readonly dir: string;
  /** The key that signed the repository's Release, ASCII-armoured. */
  readonly key: string;
  /** Another throwaway key, armoured, that signed nothing. */
  readonly otherKey: string;
}

let repository: CaddyRepository | undefined;
/** The cached repository, built first if missing (seconds; needs Debian's apt sources). */
export function caddyRepository(): CaddyRepository {
  if (repository) return repository;
  // The image's own package state decides what the host lacks.
  const status = path.join(bootedImage(), "ufw/var/lib/dpkg/status");
  const dir = execFileSync("bash", [BUILD, status], {
    encoding: "utf8",
    env: { ...process.env, OPENCLAW_CADDY_APT_CACHE: caddyAptRoot() },
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
  repository = { dir, key: read("key.asc"), otherKey: read("other-key.asc") };
  return repository;
}

export interface ServedCaddyRepository {
  /** The apt source line: `deb [signed-by=CADDY_KEYRING] http://…/ ./`. */
  readonly source: string;
  /** The repository's signing key, armoured. */
  readonly key: string;
  /** A throwaway key that signed nothing, armoured. */
  readonly otherKey: string;
  /** What the server could not answer, one `miss <method> <url>` a line. */
  misses(): string;
  close(): void;
}

/** Serves the repository from inside `netns` on `address`:`port`; close() kills it by its pid. */
export async function serveCaddyRepository(
  netns: string,
  address: string,
  port: number,
): Promise<ServedCaddyRepository> {
  const { dir, key, otherKey } = caddyRepository();
  const errors: string[] = [];
  // `ip netns exec` execs the command: the child's pid is the server's.
  const child: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      netns,
      process.execPath,
      "--import",
      "tsx",
      SERVER,
      path.join(dir, "repo"),
      address,
      String(port),
    ],
    { cwd: path.join(__dirname, "../../.."), stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => errors.push(d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`caddy apt server: not ready in 20 s: ${errors.join("")}`));
    }, 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`caddy apt server exited ${code}: ${errors.join("")}`));
    });
  });
  child.removeAllListeners("exit");
  return {
    source: `deb [signed-by=${CADDY_KEYRING}] ${base}/ ./`,
    key,
    otherKey,
    misses: () => errors.join(""),
    close: () => {
      try {
        process.kill(child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}
