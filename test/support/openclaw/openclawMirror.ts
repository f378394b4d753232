// The local mirrors the OpenClaw tests install Node and OpenClaw from: built once per machine by
// build-openclaw-mirror.ts (cached in /var/cache/openclaw-mirror), served inside a test's network
// namespace by serve-openclaw-mirror.ts. No test reaches the npm registry or nodejs.org.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_NODE_VERSION } from "../../../components/openclaw/types";

/** The OpenClaw versions the mirror serves: an upgrade and a downgrade go between them. */
export const MIRROR_OPENCLAW_VERSIONS = ["2026.9.5", "2026.9.6"] as const;
export const MIRROR_NODE_VERSION = DEFAULT_NODE_VERSION;
/** The npm Node 24.22.3 bundles (its changelog: "upgrade npm to 11.19.1" in 24.22.0). */
export const MIRROR_NPM_VERSION = "11.19.1";

/** Where NodeSource's instructions put their key. */
export const APT_KEYRING = "/usr/share/keyrings/nodesource.gpg";

const BUILD = path.join(__dirname, "build-openclaw-mirror.ts");
const SERVER = path.join(__dirname, "serve-openclaw-mirror.ts");

/** Where the builds are cached; OPENCLAW_MIRROR_CACHE moves it (e.g. to time a build from empty). */
export function mirrorRoot(): string {
  return process.env["OPENCLAW_MIRROR_CACHE"] ?? "/var/cache/openclaw-mirror";
}

export interface MirrorInfo {
  /** The cache directory: node/ (the distribution), npm/ (packuments/, tarballs/). */
  readonly dir: string;
  readonly openclawVersions: readonly string[];
  readonly nodeVersion: string;
  readonly npmVersion: string;
  /** The tarball's path under the distribution URL: `v<node>/node-v<node>-linux-x64.tar.xz`. */
  readonly nodeTarball: string;
  /** Its SHA-256, hex, as its SHASUMS256.txt has it. */
  readonly nodeSha256: string;
  /** The apt repository's path under /apt/, like NodeSource's: `node_24.x`. */
  readonly aptRepository: string;
  readonly aptSuite: string;
  /** The nodejs package's version there, as NodeSource spells it: `24.22.3-1nodesource1`. */
  readonly aptNodeVersion: string;
  /** The key that signed the apt repository, ASCII-armoured. */
  readonly aptKey: string;
  /** Another throwaway key, armoured, that signed nothing. */
  readonly aptOtherKey: string;
}

let info: MirrorInfo | undefined;
/** The cached mirrors, built first if missing (minutes, once per machine; needs the registry). */
export function openclawMirror(): MirrorInfo {
  if (info) return info;
  const dir = execFileSync(process.execPath, ["--import", "tsx", BUILD], {
    encoding: "utf8",
    cwd: path.join(__dirname, "../../.."),
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "complete.json"), "utf8")) as Omit<
    MirrorInfo,
    "dir" | "aptKey" | "aptOtherKey"
  >;
  const key = (name: string) => fs.readFileSync(path.join(dir, "apt-keys", name), "utf8");
  info = { dir, ...manifest, aptKey: key("key.asc"), aptOtherKey: key("other-key.asc") };
  return info;
}

export interface ServedMirror {
  /** With a trailing slash, for `npm --registry`. */
  readonly npmRegistry: string;
  /** With a trailing slash, like https://nodejs.org/dist/. */
  readonly nodeDistUrl: string;
  /**
   * The apt source line for the repository, as NodeSource documents theirs:
   * `deb [signed-by=/usr/share/keyrings/nodesource.gpg] <base>/apt/node_24.x nodistro main`.
   */
  readonly nodeAptSource: string;
  /** The repository's signing key, ASCII-armoured (MirrorInfo.aptKey). */
  readonly aptKey: string;
  /** What the server could not answer, one `miss <method> <url>` a line. */
  misses(): string;
  close(): void;
}

/**
 * Serves the mirrors from inside network namespace `netns` on `address`:`port` (an address that
 * namespace has, e.g. a sandbox's trusted peer, 192.168.1.10, which a booted host reaches on the
 * LAN). close() kills the server by its pid.
 */
export async function serveMirror(netns: string, address: string, port: number): Promise<ServedMirror> {
  const { dir, aptRepository, aptSuite, aptKey } = openclawMirror();
  const errors: string[] = [];
  // `ip netns exec` execs the command: the child's pid is the server's.
  const child: ChildProcess = spawn(
    "ip",
    ["netns", "exec", netns, process.execPath, "--import", "tsx", SERVER, dir, address, String(port)],
    { cwd: path.join(__dirname, "../../.."), stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => errors.push(d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`mirror server: not ready in 20 s: ${errors.join("")}`));
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
      reject(new Error(`mirror server exited ${code}: ${errors.join("")}`));
    });
  });
  child.removeAllListeners("exit");
  return {
    npmRegistry: `${base}/npm/`,
    nodeDistUrl: `${base}/node/`,
    nodeAptSource: `deb [signed-by=${APT_KEYRING}] ${base}/apt/${aptRepository} ${aptSuite} main`,
    aptKey,
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
