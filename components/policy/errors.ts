/**
 * One problem found in the declared config. Every problem names the config key it came from,
 * the value found there and what would have been accepted, so an operator can fix it without
 * reading our code.
 */
export interface PolicyProblem {
  /** Full config key, e.g. `openclaw:firewall.services[0].sources[1]`. */
  readonly key: string;
  /** The offending value as written (JSON-encoded in messages so control characters are visible). */
  readonly value: unknown;
  /** What is wrong with it. */
  readonly problem: string;
  /** What would be accepted instead. */
  readonly accepted: string;
}

/** A warning does not stop the run, but is printed by `plan` and logged by `pulumi up`. */
export interface PolicyWarning {
  readonly key: string;
  readonly message: string;
}

export function formatProblem(p: PolicyProblem): string {
  // A problem that ends in a question ("did you mean ...?") takes no extra full stop.
  const end = p.problem.endsWith("?") ? "" : ".";
  return `${p.key}: ${describeValue(p.value)} ${p.problem}${end} Accepted: ${p.accepted}.`;
}

export function formatWarning(w: PolicyWarning): string {
  return `${w.key}: ${w.message}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// What a key is about, most specific first: `openclaw:existing.router.address` is the router,
// `openclaw:firewall.ssh.port` the firewall, `edge.ssh.user` the login. Both spellings of a key
// match: the stack's (`openclaw:sshUser`) and the component's (`edge.ssh.user`).
const SUBJECTS: readonly [RegExp, string][] = [
  [/[.:]openclaw(\.|\[|$)|:(gatewayToken|anthropicApiKey|openaiApiKey)$/, "OpenClaw configuration"],
  [/[.:]router(\.|\[|$)/, "router configuration"],
  [/[.:]hardening(\.|\[|$)/, "hardening options"],
  [/[.:]firewall(\.|\[|$)/, "firewall configuration"],
  [/[.:](target|aws|hcloud|existing)(\.|\[|$)/, "target configuration"],
  [/[.:](ssh|sshUser|sshHostKey|sshPrivateKey)(\.|\[|$)/, "SSH login configuration"],
];

/** The header's subject: what kind of config the problems are in, or plain "configuration" when mixed. */
export function problemSubject(problems: readonly PolicyProblem[]): string {
  const subjects = new Set(
    problems.map((p) => SUBJECTS.find(([pattern]) => pattern.test(p.key))?.[1] ?? "configuration"),
  );
  return subjects.size === 1 ? [...subjects][0]! : "configuration";
}

/** Thrown when the config is invalid; carries every problem found, not just the first. */
export class PolicyError extends Error {
  constructor(public readonly problems: readonly PolicyProblem[]) {
    super(
      `Invalid ${problemSubject(problems)} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "PolicyError";
  }
}

/** Collects problems and warnings while a config is parsed, so all of them are reported at once. */
export class Findings {
  readonly problems: PolicyProblem[] = [];
  readonly warnings: PolicyWarning[] = [];

  fail(key: string, value: unknown, problem: string, accepted: string): void {
    this.problems.push({ key, value, problem, accepted });
  }

  warn(key: string, message: string): void {
    this.warnings.push({ key, message });
  }

  throwIfFailed(): void {
    if (this.problems.length > 0) throw new PolicyError(this.problems);
  }
}
