// A real browser for the HTTPS tests: Debian's Chromium (/usr/bin/chromium, never a downloaded
// one) driven by playwright-core, running inside one of the sandbox's namespaces. It trusts the
// test CA's root because that root is in its own NSS database (HOME is a fresh directory), not
// because certificate errors are ignored: a site that root does not vouch for fails to load.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser cannot run here, or undefined when it can. */
export function browserUnavailable(): string | undefined {
  if (!fs.existsSync(CHROMIUM)) return `needs ${CHROMIUM} (chromium, see .ci/run)`;
  if (spawnSync("sh", ["-c", "command -v certutil"]).status !== 0)
    return "needs certutil (libnss3-tools, see .ci/run)";
  return undefined;
}

/**
 * The flags that keep Chromium from reaching Google's hosts at every start (DESIGN.md, "An ACME
 * server and a browser, offline"), and no sandbox: it runs as root in a namespace.
 */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface NamespacedBrowser {
  /** The browser's one context, over a fresh user data directory: its storage is the device's. */
  readonly context: BrowserContext;
  /** The browser's own directory: HOME (with .pki/nssdb) and the user data directory. */
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium inside network namespace `ns`, trusting `rootPem` (and nothing
 * else beyond Chromium's own store, which no test CA is in). `dir` must not exist yet.
 */
export async function launchIn(ns: string, rootPem: string, dir: string): Promise<NamespacedBrowser> {
  const home = path.join(dir, "home");
  const nssdb = path.join(home, ".pki", "nssdb");
  fs.mkdirSync(nssdb, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, "root.pem"), rootPem);
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"], { stdio: "pipe" });
  execFileSync(
    "certutil",
    ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "pebble", "-i", path.join(dir, "root.pem")],
    { stdio: "pipe" },
  );
  // Playwright starts the executable it is given with its pipes on fds 3 and 4; `ip netns exec`
  // keeps them, and execs Chromium in the namespace.
  const wrapper = path.join(dir, "chromium-in-ns");
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${ns}' ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  const userData = path.join(dir, "user-data");
  fs.mkdirSync(userData);
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: wrapper,
    headless: true,
    args: FLAGS,
    env: { ...process.env, HOME: home },
    timeout: 60_000,
  });
  return { context, dir, close: () => context.close() };
}
