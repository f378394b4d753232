// The command line of `npm run blocks`, checked before anything connects anywhere.
import { parseArgs } from "node:util";

export const BLOCKS_USAGE = `Usage: npm run blocks -- --stack <name> [options]

Reads UFW's log on the stack's host over SSH and prints the blocked traffic, grouped by hour,
source and destination port, busiest first.

  -s, --stack <name>        the stack (reads stacks/Pulumi.<name>.yaml)
      --since <when>        how far back: 24h, 7d (the default) or a date, 2026-11-20 or
                            "2026-11-20 14:00" (the host's time)
      --json                JSON for scripts instead of the table
      --host <address>      the host to reach (required for aws and hcloud stacks: their
                            address is a stack output, e.g. $(pulumi stack output publicIpv4))
      --port <port>         its SSH port (default: the stack's)
      --user <name>         the SSH user (default: openclaw:sshUser or the target's default)
  -i, --identity <file>     the private key to log in with (default: your ssh-agent and config)
  -o, --ssh-option <opt>    passed to ssh as -o, e.g. -o ProxyJump=bastion (repeatable)
`;

/** A bad command line: printed with the usage, without a stack trace. */
export class UsageError extends Error {}

export interface BlocksOptions {
  readonly stack: string;
  readonly since: string;
  readonly json: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly identity?: string;
  readonly sshOptions: string[];
}

const DURATION = /^([1-9]\d{0,4})([hd])$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/;
// A host name or an IP address; never starting with "-", which ssh would read as an option.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*[= ]\S/;

export function parseBlocksArgs(argv: string[]): BlocksOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string", short: "s" },
        since: { type: "string", default: "7d" },
        json: { type: "boolean", default: false },
        host: { type: "string" },
        port: { type: "string" },
        user: { type: "string" },
        identity: { type: "string", short: "i" },
        "ssh-option": { type: "string", short: "o", multiple: true, default: [] },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const bad = (flag: string, value: string, accepted: string): never => {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not valid. Accepted: ${accepted}.`);
  };
  if (!values.stack) throw new UsageError("--stack is required. Accepted: a stack name, e.g. home.");
  const since = values.since!;
  if (!DURATION.test(since) && !isDate(since)) {
    bad(
      "since",
      since,
      'a number of hours or days such as 24h or 7d, or a date: 2026-11-20 or "2026-11-20 14:00"',
    );
  }
  if (values.host !== undefined && !HOST.test(values.host)) {
    bad("host", values.host, "a host name or an IPv4 or IPv6 address");
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d{1,5}$/.test(values.port) || port < 1 || port > 65535)
      bad("port", values.port, "a port from 1 to 65535");
  }
  if (values.user !== undefined && !USER.test(values.user)) {
    bad("user", values.user, "a Linux user name such as ubuntu or root");
  }
  for (const option of values["ssh-option"]!) {
    if (!SSH_OPTION.test(option)) bad("ssh-option", option, "an ssh_config option, Name=value");
  }
  return {
    stack: values.stack,
    since: since.replace("T", " "),
    json: values.json!,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
    ...(values.user === undefined ? {} : { user: values.user }),
    ...(values.identity === undefined ? {} : { identity: values.identity }),
    sshOptions: values["ssh-option"]!,
  };
}

function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [, y, mo, d, h = "00", mi = "00"] = m;
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)));
  // Date.UTC rolls 2026-02-30 over into March: a real date survives the round trip.
  return (
    t.getUTCFullYear() === Number(y) &&
    t.getUTCMonth() === Number(mo) - 1 &&
    t.getUTCDate() === Number(d) &&
    t.getUTCHours() === Number(h) &&
    t.getUTCMinutes() === Number(mi)
  );
}
