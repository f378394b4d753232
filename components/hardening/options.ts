import * as path from "node:path";
import { Findings } from "../policy/errors";
import { closestName } from "../policy/suggest";
import { OPENCLAW_DIRECTORIES } from "../openclaw/types";
import { SSHD_ALIASES, SSHD_FIXED, SSHD_REFUSED } from "./sshdConfig";
import { checkSshdSetting } from "./sshdSettings";

/** How the hardening steps run. Every field is optional; see `HOST_DEFAULTS`. */
export interface HardeningOptions {
  /**
   * How long a step may take, as a Pulumi duration ("10m", "1h30m"), including waiting for a
   * booting VM's sshd to answer (the wait step tries every 2 s until then). Default "10m".
   */
  timeout?: string;
  /** Seconds for each SSH dial attempt. Default 15. */
  perDialTimeout?: number;
  /**
   * Seconds the host waits, once a change is in force, for a new SSH connection to confirm it.
   * Unconfirmed, the host restores what it had before. 30 to 3600, less than `timeout`;
   * default 120.
   */
  rollbackAfter?: number;
  /**
   * Where the host keeps its lock, the pre-change snapshot and the rollback record. Default
   * /var/lib/openclaw. An absolute, normalised path only root can write to: not under a directory
   * every user can write to (/tmp, /var/tmp, ...), nor in OpenClaw's directories.
   */
  stateDir?: string;
  /**
   * Make the policy govern ports Docker publishes, through Docker's DOCKER-USER chain (they are
   * forwarded and never pass UFW's input rules). Default true; harmless where Docker is absent.
   */
  docker?: boolean;
  /**
   * Harden sshd: no password logins, root by key only, validated with `sshd -t` before sshd is
   * reloaded. Default true; `false` leaves sshd alone.
   */
  sshd?: boolean;
  /**
   * sshd_config settings to add to the hardening, such as `{ MaxAuthTries: "3" }` (a stack file
   * may write numbers and booleans), from an allow-list of settings that cannot weaken it, each
   * value checked; verify checks sshd applies them. Only with `sshd` left on. A stack file may
   * still write them as `sshd: { settings: ... }`.
   */
  sshdSettings?: Record<string, string>;
  /**
   * What to do with allow and limit rules on the host that the policy does not declare (added
   * by hand, by an earlier setup, by another tool): `fail` (default) refuses to harden and names
   * each one; `remove` deletes them in the harden step, under the armed rollback; `keep` leaves
   * them in force and lists them in the verify output. Deny and reject rules (fail2ban's bans)
   * are never touched.
   */
  unmanagedRules?: UnmanagedRules;
}

/** What to do with rules on the host that the policy does not declare. */
export const UnmanagedRules = { Fail: "fail", Remove: "remove", Keep: "keep" } as const;
export type UnmanagedRules = (typeof UnmanagedRules)[keyof typeof UnmanagedRules];
export const UNMANAGED_RULES: readonly UnmanagedRules[] = Object.values(UnmanagedRules);

export interface HostSettings {
  readonly timeout: string;
  readonly perDialTimeout: number;
  readonly rollbackAfter: number;
  readonly stateDir: string;
  readonly docker: boolean;
  /** false: leave sshd alone. */
  readonly sshd: false | { readonly settings: Readonly<Record<string, string>> };
  readonly unmanagedRules: UnmanagedRules;
}

export const HOST_DEFAULTS: HostSettings = {
  timeout: "10m",
  perDialTimeout: 15,
  rollbackAfter: 120,
  stateDir: "/var/lib/openclaw",
  docker: true,
  sshd: { settings: {} },
  unmanagedRules: "fail",
};

/**
 * The shortest window: it runs from the change in force to the verify step's new connection
 * (harden's session ending, Pulumi starting the next step, a dial), which takes about a second
 * on the sandbox (docs/safety.md, "The rollback"); 30 also leaves room for one lost dial.
 */
export const MIN_ROLLBACK_AFTER = 30;

const KEYWORD = /^[A-Za-z][A-Za-z0-9]*$/;

const DURATION = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;

// The state dir is rendered into a shell script inside single quotes, so no quote, space or
// shell metacharacter; and it is not under a directory every user may create files in, where
// another user could plant or swap the lock, the snapshot the rollback restores, or its record.
const SHARED_DIRS = ["/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock", "/var/crash"];

/** Why `stateDir` is not a safe place for the host's state, or undefined when it is. */
function checkStateDir(stateDir: unknown): string | undefined {
  if (typeof stateDir !== "string") return "is not a path";
  if (!stateDir.startsWith("/")) return "is not an absolute path";
  if (/[^A-Za-z0-9._/-]/.test(stateDir)) {
    return "contains characters other than letters, digits, '.', '_', '-' and '/'";
  }
  const normal = path.posix.normalize(stateDir).replace(/(.)\/$/, "$1");
  if (normal !== stateDir) return `is not normalised; did you mean ${normal}?`;
  if (stateDir === "/") return "is the root directory";
  const shared = SHARED_DIRS.find((d) => stateDir === d || stateDir.startsWith(`${d}/`));
  if (shared) return `is in ${shared}, which every user of the host can write to`;
  // OpenClaw's install step gives some of its directories to the gateway's user, who could then
  // replace the rollback script root runs at boot; and it replaces their contents wholesale.
  for (const d of OPENCLAW_DIRECTORIES) {
    const within = (inner: string, outer: string) => inner.startsWith(`${outer}/`);
    const relation =
      stateDir === d
        ? "is"
        : within(stateDir, d)
          ? "is inside"
          : within(d, stateDir)
            ? "contains"
            : undefined;
    if (relation) return `${relation} ${d}, one of OpenClaw's directories`;
  }
  return undefined;
}

/** Why `value` is not a whole number of seconds from `min` to `max`, or undefined when it is. */
function secondsProblem(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) return "is not a whole number of seconds";
  if (value < min || value > max) return `is out of range (${min} to ${max} seconds)`;
  return undefined;
}

/** Seconds in a Pulumi duration such as "1h30m" (already validated). */
export function seconds(duration: string): number {
  const [, h, m, s] = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration)!;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

/**
 * Validates the hardening options under `key` and fills in the defaults. Throws `PolicyError`
 * naming every bad value, before anything reaches a host.
 */
export function parseHardeningOptions(raw: unknown, key: string): HostSettings {
  const f = new Findings();
  if (raw === undefined) return HOST_DEFAULTS;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    f.fail(key, raw, "is not an object", "an object with timeout, perDialTimeout, rollbackAfter, stateDir");
    f.throwIfFailed();
  }
  const o = raw as Record<string, unknown>;
  const known = [...Object.keys(HOST_DEFAULTS), "sshdSettings"];
  for (const name of Object.keys(o)) {
    if (known.includes(name)) continue;
    const guess = closestName(name, known);
    f.fail(
      `${key}.${name}`,
      o[name],
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${known.join(", ")}`,
    );
  }
  const { sshdSettings, ...given } = o;
  const settings = { ...HOST_DEFAULTS, ...given } as Record<keyof HostSettings, unknown>;
  const { timeout, perDialTimeout, rollbackAfter, stateDir, docker } = settings;
  if (typeof timeout !== "string" || !DURATION.test(timeout) || seconds(timeout) === 0) {
    f.fail(`${key}.timeout`, timeout, "is not a duration", 'a Pulumi duration such as "10m" or "1h30m"');
  }
  const dialProblem = secondsProblem(perDialTimeout, 1, 300);
  if (dialProblem) {
    f.fail(`${key}.perDialTimeout`, perDialTimeout, dialProblem, "a whole number of seconds from 1 to 300");
  }
  const windowProblem = secondsProblem(rollbackAfter, MIN_ROLLBACK_AFTER, 3600);
  if (windowProblem) {
    f.fail(
      `${key}.rollbackAfter`,
      rollbackAfter,
      windowProblem,
      `a whole number of seconds from ${MIN_ROLLBACK_AFTER} to 3600`,
    );
  } else if (
    typeof timeout === "string" &&
    DURATION.test(timeout) &&
    seconds(timeout) <= (rollbackAfter as number)
  ) {
    // The verify step must still be dialling when a locked-out host rolls back, to report it.
    f.fail(
      `${key}.rollbackAfter`,
      rollbackAfter,
      `is not shorter than the step timeout (${timeout})`,
      `fewer seconds than ${key}.timeout allows`,
    );
  }
  const stateDirProblem = checkStateDir(stateDir);
  if (stateDirProblem) {
    f.fail(
      `${key}.stateDir`,
      stateDir,
      stateDirProblem,
      `a normalised absolute path of letters, digits, '.', '_', '-' and '/' that only root can write to, outside OpenClaw's directories (${OPENCLAW_DIRECTORIES.join(", ")}), such as /var/lib/openclaw`,
    );
  }
  if (typeof docker !== "boolean") f.fail(`${key}.docker`, docker, "is not a boolean", "true or false");
  if (!(UNMANAGED_RULES as readonly unknown[]).includes(settings.unmanagedRules)) {
    f.fail(
      `${key}.unmanagedRules`,
      settings.unmanagedRules,
      "is not recognised",
      `one of ${UNMANAGED_RULES.join(", ")} (what to do with allow rules the policy does not declare)`,
    );
  }
  const sshd = parseSshd(f, o["sshd"], sshdSettings, key);
  f.throwIfFailed();
  return { ...(settings as Omit<HostSettings, "sshd">), sshd } as HostSettings;
}

/**
 * `sshd` and `sshdSettings` under the hardening key `hardeningKey`. A stack file may also write
 * the settings as `sshd: { settings }`, the form from before `sshdSettings`.
 */
function parseSshd(
  f: Findings,
  raw: unknown,
  sshdSettings: unknown,
  hardeningKey: string,
): HostSettings["sshd"] {
  const key = `${hardeningKey}.sshd`;
  let settingsKey = `${key}.settings`;
  if (sshdSettings !== undefined) {
    if (raw !== undefined && raw !== true) {
      f.fail(
        `${hardeningKey}.sshdSettings`,
        sshdSettings,
        raw === false ? "is given with sshd: false" : "is given together with sshd.settings",
        "sshdSettings with sshd left on (true or unset)",
      );
      return false;
    }
    raw = { settings: sshdSettings };
    settingsKey = `${hardeningKey}.sshdSettings`;
  }
  if (raw === undefined || raw === true) return { settings: {} };
  if (raw === false) return false;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    f.fail(key, raw, "is not true, false or an object", "true, false, or { settings: { MaxAuthTries: 3 } }");
    return false;
  }
  for (const name of Object.keys(raw)) {
    if (name !== "settings")
      f.fail(
        `${key}.${name}`,
        (raw as Record<string, unknown>)[name],
        "is not a known key",
        "one of settings",
      );
  }
  const given = (raw as { settings?: unknown }).settings ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    f.fail(
      settingsKey,
      given,
      "is not an object",
      "an object of sshd_config keywords and values, e.g. { MaxAuthTries: 3 }",
    );
    return false;
  }
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const k = `${settingsKey}.${name}`;
    const fixed = Object.keys(SSHD_FIXED).find((x) => x.toLowerCase() === name.toLowerCase());
    const alias = SSHD_ALIASES[name.toLowerCase()];
    const refused = SSHD_REFUSED[name.toLowerCase()];
    if (!KEYWORD.test(name)) {
      f.fail(k, name, "is not an sshd_config keyword", "letters and digits, such as MaxAuthTries");
    } else if (refused) {
      f.fail(
        k,
        value,
        refused,
        "sshd_config keywords that apply to every login, such as MaxAuthTries (no Match or Include)",
      );
    } else if (alias) {
      f.fail(
        k,
        value,
        `is another name sshd reads for ${alias}, which the SSH hardening sets itself`,
        `leave ${name} out, or set hardening.sshd to false`,
      );
    } else if (fixed) {
      f.fail(
        k,
        value,
        "is set by the SSH hardening itself",
        `leave ${fixed} out, or set hardening.sshd to false`,
      );
    } else if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      f.fail(k, value, "is not a plain sshd_config value", "a number, yes/no, or text");
    } else {
      // A stack file may write yes/no as a boolean and numbers as numbers.
      const checked = checkSshdSetting(
        name,
        typeof value === "boolean" ? (value ? "yes" : "no") : String(value),
      );
      if ("problem" in checked) f.fail(k, value, checked.problem, checked.accepted);
      else settings[checked.name] = checked.value;
    }
  }
  return { settings };
}
