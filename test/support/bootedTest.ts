// Shared by the booted-host test files: a booted host per test, removed after the file's tests,
// the seed's expected probe results, and the check that the machine itself was left alone.
import { after } from "node:test";
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { BootedHost, bootedImage, type Variant } from "./bootedHost";
import type { Target } from "./netprobe";

/** Returns a function that boots a fresh host; all of them are destroyed after the file. */
export function bootedPool(): (variant?: Variant) => Promise<BootedHost> {
  const made: BootedHost[] = [];
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
  trusted: ["open", "open", "open", "timeout", "timeout", "timeout", "timeout", "timeout"],
  untrusted: ["open", "open", "timeout", "timeout", "timeout", "timeout", "timeout", "timeout"],
};

/**
 * Files on the machine's own filesystems modified since `since`, other than the test's own:
 * the host's directory and namespaces, the image cache, and what other things running on the
 * machine write for themselves (other sandboxes' directories and namespaces, the machine's
 * journal, npm's and tsx's caches, the checkouts under /work).
 */
export function machineWrites(since: Date, host: BootedHost): string[] {
  bootedImage();
  const prune = [
    "/proc",
    "/sys",
    "/dev",
    "/work",
    os.tmpdir(),
    "/var/cache/openclaw-booted",
    "/var/log/journal",
    "/root/.npm",
    "/root/.cache",
    "/run/netns",
    "/etc/netns",
  ];
  const find = spawnSync(
    "find",
    [
      "/",
      "-xdev",
      "(",
      ...prune.flatMap((p, i) => (i ? ["-o", "-path", p] : ["-path", p])),
      ")",
      "-prune",
      "-o",
      "-newermt",
      `@${since.getTime() / 1000}`,
      "-print",
    ],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const written = find.stdout.split("\n").filter(Boolean);
  const mine = (p: string) => p.startsWith(host.dir) || p.includes(`oc${host.id}-`);
  return written.filter((p) => !mine(p));
}
