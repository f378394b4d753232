import type { Findings } from "../policy/errors";

export interface UrlRule {
  /** The schemes accepted, e.g. ["https:"]. */
  readonly schemes: readonly string[];
  /** What would be accepted, for the error. */
  readonly accepted: string;
  /** Why a URL with another scheme is refused. */
  readonly badScheme: (parsed: URL | undefined) => string;
}

/**
 * A URL given in config: one of `rule.schemes`, no credentials (written in plain text on the host
 * and in the state), no query or fragment. The parsed URL, or undefined once `f` has the problem.
 * Credentials and queries are never shown: either may carry a token.
 */
export function checkUrl(f: Findings, key: string, raw: unknown, rule: UrlRule): URL | undefined {
  let parsed: URL | undefined;
  try {
    parsed = typeof raw === "string" && !/\s/.test(raw) ? new URL(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || !rule.schemes.includes(parsed.protocol)) {
    f.fail(key, raw, rule.badScheme(parsed), rule.accepted);
    return undefined;
  }
  if (parsed.username || parsed.password) {
    f.fail(
      key,
      "(a URL with credentials, not shown)",
      "holds credentials, which would be written in plain text on the host and in the state",
      rule.accepted,
    );
    return undefined;
  }
  if (parsed.search || parsed.hash || /[?#]/.test(raw as string)) {
    f.fail(key, `${parsed.origin}${parsed.pathname}?…`, "has a query or a fragment", rule.accepted);
    return undefined;
  }
  return parsed;
}
