// The extra sshd settings `hardening.sshdSettings` accepts: an allow-list, each value checked.
// Listed are settings that cannot weaken what the SSH hardening promises (no password logins,
// root by key only, keys only from files their owners alone can write), nor reach past sshd
// into the host (commands, environment, other files). Each also says what `sshd -T` prints for
// it, so that verify can check it is what sshd applies.

/** One accepted keyword: which values, written how, and what `sshd -T` shows for them. */
interface Rule {
  /** What is accepted, for the error: the values and, where some are refused, why. */
  readonly accepted: string;
  /** The value to write for `raw`, or undefined when it is refused. */
  readonly write: (raw: string) => string | undefined;
  /** The values `sshd -T` prints for a written value, one per line. Default: the value itself. */
  readonly shows?: (written: string) => string[];
}

const oneOf = (values: readonly string[], why = ""): Rule => ({
  accepted: `${values.join(" or ")}${why ? ` (${why})` : ""}`,
  write: (raw) => values.find((v) => v.toLowerCase() === raw.toLowerCase()),
});

const YES_NO = oneOf(["yes", "no"]);
const FORWARDING = oneOf(["yes", "no", "all", "local", "remote"]);
const MAX_COUNT = 10_000;

const count = (min: number): Rule => ({
  accepted: `a whole number from ${min} to ${MAX_COUNT}`,
  write: (raw) => (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= MAX_COUNT ? raw : undefined),
});

// sshd's time format: a number of seconds, or numbers each with a unit (1m30s).
const TIME = /^(\d+)$|^(\d+[smhdw])+$/i;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
function timeSeconds(time: string): number {
  if (/^\d+$/.test(time)) return Number(time);
  return [...time.matchAll(/(\d+)([smhdw])/gi)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit!.toLowerCase()]!,
    0,
  );
}
const MAX_SECONDS = 86_400;
const time = (min: number, why: string): Rule => ({
  accepted: `a time from ${min} s to a day, in seconds or sshd's units such as 1m30s (${why})`,
  write: (raw) =>
    TIME.test(raw) && timeSeconds(raw) >= min && timeSeconds(raw) <= MAX_SECONDS ? raw : undefined,
  shows: (written) => [String(timeSeconds(written))],
});

// User and group patterns (sshd_config(5), PATTERNS), optionally @host: space-separated.
const PATTERNS: Rule = {
  accepted: "user or group patterns separated by spaces, of letters, digits and . _ - * ? ! @ / :",
  write: (raw) => (/^[A-Za-z0-9._*?!@/:-]+( [A-Za-z0-9._*?!@/:-]+)*$/.test(raw) ? raw : undefined),
  shows: (written) => written.split(" "),
};

const RULES: Readonly<Record<string, Rule>> = {
  AllowAgentForwarding: YES_NO,
  AllowGroups: PATTERNS,
  AllowStreamLocalForwarding: FORWARDING,
  AllowTcpForwarding: FORWARDING,
  AllowUsers: PATTERNS,
  Banner: {
    accepted: "none, or the absolute path of a file of letters, digits and . _ - /",
    write: (raw) => (raw === "none" || /^\/[A-Za-z0-9._/-]+$/.test(raw) ? raw : undefined),
  },
  ClientAliveCountMax: count(0),
  ClientAliveInterval: time(0, "0 turns it off"),
  Compression: YES_NO,
  DenyGroups: PATTERNS,
  DenyUsers: PATTERNS,
  DisableForwarding: YES_NO,
  GatewayPorts: oneOf(["no", "yes", "clientspecified"]),
  HostbasedAuthentication: oneOf(
    ["no"],
    "yes trusts other hosts and users' .shosts files to vouch for a login",
  ),
  IgnoreRhosts: oneOf(["yes"], "users' .rhosts and .shosts files would otherwise take part in logins"),
  LogLevel: oneOf(
    ["INFO", "VERBOSE"],
    "quieter levels drop the login records that audits and fail2ban read; DEBUG levels log users' data",
  ),
  LoginGraceTime: time(1, "0 would let unauthenticated connections stay for ever"),
  MaxAuthTries: count(1),
  MaxSessions: count(1),
  MaxStartups: {
    accepted: "start:rate:full, with start at most full and rate from 1 to 100, such as 10:30:100",
    write: (raw) => {
      const m = /^(\d+):(\d+):(\d+)$/.exec(raw);
      if (!m) return undefined;
      const [start, rate, full] = [Number(m[1]), Number(m[2]), Number(m[3])];
      return start <= full && rate >= 1 && rate <= 100 && full <= MAX_COUNT ? raw : undefined;
    },
  },
  PerSourceMaxStartups: {
    accepted: `none, or a whole number from 1 to ${MAX_COUNT}`,
    write: (raw) => (raw === "none" ? raw : count(1).write(raw)),
  },
  PermitEmptyPasswords: oneOf(["no"]),
  PermitTTY: YES_NO,
  PermitTunnel: oneOf(["yes", "no", "point-to-point", "ethernet"]),
  PermitUserEnvironment: oneOf(
    ["no"],
    "yes lets a user's ~/.ssh/environment set LD_PRELOAD and the like for sshd's session",
  ),
  PrintLastLog: YES_NO,
  PrintMotd: YES_NO,
  StrictModes: oneOf(
    ["yes"],
    "no makes sshd read keys from files and directories others can write, so they could add keys for that user",
  ),
  TCPKeepAlive: YES_NO,
  UseDNS: YES_NO,
  X11Forwarding: YES_NO,
};

const BY_LOWER = new Map(Object.keys(RULES).map((name) => [name.toLowerCase(), name]));

/** The keywords accepted, for errors and docs. */
export const SSHD_ACCEPTED: readonly string[] = Object.keys(RULES);

/**
 * Checks one setting (sshd keywords are case-insensitive). Returns its keyword as sshd_config(5)
 * writes it and the value to write, or why it is refused and what is accepted.
 */
export function checkSshdSetting(
  name: string,
  raw: string,
): { name: string; value: string } | { problem: string; accepted: string } {
  const canonical = BY_LOWER.get(name.toLowerCase());
  if (!canonical) {
    return {
      problem:
        "is not one of the sshd settings the hardening accepts: those it leaves out could let keys, commands or environment in past the hardening, or break the deployment's own logins",
      accepted: `one of ${SSHD_ACCEPTED.join(", ")}`,
    };
  }
  const rule = RULES[canonical]!;
  const value = rule.write(raw);
  if (value === undefined) return { problem: `is not accepted for ${canonical}`, accepted: rule.accepted };
  return { name: canonical, value };
}

/**
 * What `sshd -T` prints for accepted settings, as `keyword value` lines (keywords in lower case,
 * times in seconds, one line per user or group pattern): what verify expects sshd to apply.
 */
export function sshdEffective(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) =>
    (RULES[name]?.shows?.(value) ?? [value]).map((v) => `${name.toLowerCase()} ${v}`),
  );
}
