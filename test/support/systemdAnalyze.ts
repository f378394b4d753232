// `systemd-analyze verify` for a unit the tests render, leaving the machine as it was.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";

/** Whether this machine has systemd-analyze. */
export function hasSystemdAnalyze(): boolean {
  return spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0;
}

/**
 * Verifies the unit file `unitFile`. systemd-analyze writes under /run/systemd: as root, on a
 * tmpfs of its own mount namespace, so the machine is left as it was (the booted host's proof 7
 * checks that).
 */
export function analyzeUnit(unitFile: string): SpawnSyncReturns<string> {
  return process.getuid?.() === 0
    ? spawnSync(
        "unshare",
        [
          "-m",
          "sh",
          "-c",
          'mount -t tmpfs openclaw-analyze /run/systemd && exec systemd-analyze verify "$1"',
          "_",
          unitFile,
        ],
        { encoding: "utf8" },
      )
    : spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" });
}
