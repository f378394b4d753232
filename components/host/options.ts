import { Findings } from "../policy/errors";

/** How the hardening steps run. Every field is optional; see `HOST_DEFAULTS`. */
export interface HardeningOptions {
  /**
   * How long a step may take, as a Pulumi duration ("10m", "1h30m"), including waiting for a
   * booting VM to accept SSH: dials are retried without limit until then.
   */
  timeout?: string;
  /** Seconds for each SSH dial attempt. */
  perDialTimeout?: number;
  /**
   * Seconds the host waits, after changing an active firewall, for a new SSH connection to
   * confirm the change. Unconfirmed, the host restores the rules it had before.
   */
  rollbackAfter?: number;
  /** Where the host keeps its lock, the pre-change snapshot and the rollback record. */
  stateDir?: string;
}

export type HostSettings = Required<HardeningOptions>;

export const HOST_DEFAULTS: HostSettings = {
  timeout: "10m",
  perDialTimeout: 15,
  rollbackAfter: 120,
  stateDir: "/var/lib/openclaw",
};

const DURATION = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;
// Rendered into a shell script inside single quotes: no quote, space or shell metacharacter.
const STATE_DIR = /^(\/[A-Za-z0-9._-]+)+$/;

function seconds(duration: string): number {
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
  for (const name of Object.keys(o)) {
    if (!(name in HOST_DEFAULTS)) {
      f.fail(`${key}.${name}`, o[name], "is not a hardening option", Object.keys(HOST_DEFAULTS).join(", "));
    }
  }
  const settings = { ...HOST_DEFAULTS, ...o } as Record<keyof HostSettings, unknown>;
  const { timeout, perDialTimeout, rollbackAfter, stateDir } = settings;
  if (typeof timeout !== "string" || !DURATION.test(timeout) || seconds(timeout) === 0) {
    f.fail(`${key}.timeout`, timeout, "is not a duration", 'a Pulumi duration such as "10m" or "1h30m"');
  }
  if (
    !Number.isInteger(perDialTimeout) ||
    (perDialTimeout as number) < 1 ||
    (perDialTimeout as number) > 300
  ) {
    f.fail(`${key}.perDialTimeout`, perDialTimeout, "is not a whole number of seconds", "1 to 300");
  }
  if (!Number.isInteger(rollbackAfter) || (rollbackAfter as number) < 5 || (rollbackAfter as number) > 3600) {
    f.fail(`${key}.rollbackAfter`, rollbackAfter, "is not a whole number of seconds", "5 to 3600");
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
  if (typeof stateDir !== "string" || !STATE_DIR.test(stateDir) || stateDir.split("/").includes("..")) {
    f.fail(
      `${key}.stateDir`,
      stateDir,
      "is not a plain absolute directory path",
      "an absolute path of letters, digits, '.', '_', '-' and '/', such as /var/lib/openclaw",
    );
  }
  f.throwIfFailed();
  return settings as HostSettings;
}
