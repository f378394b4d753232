// npm as the consumer tests call it: from its cache first, the registry only for what it lacks.
import { execFileSync } from "node:child_process";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs `npm args` in `cwd` with --offline, then once more with --prefer-offline if that failed. */
export function npmCacheFirst(args: string[], cwd: string): string {
  try {
    return npm([...args, "--offline"], cwd);
  } catch {
    return npm([...args, "--prefer-offline"], cwd);
  }
}

/** Runs `npm args` in `cwd` and returns what it printed. */
export function npm(args: string[], cwd: string): string {
  return execFileSync(NPM, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
