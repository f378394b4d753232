/**
 * `node.aptSource` and `node.aptKey`: the one-line apt source and the key the install step
 * writes, as root, to the source's `signed-by=` path. Both are checked here so that the step can
 * write nothing but a keyring, in a keyring directory, and apt checks every signature it did.
 * Pure; problems name the option and what is accepted, never the key's text.
 */
import type { Findings } from "../policy/errors";
import { publicKeyProblem } from "./openpgp";

/** Where apt's keyrings belong (apt's sources.list(5)): the operator's, and the packages'. */
export const KEYRING_DIRS = ["/etc/apt/keyrings/", "/usr/share/keyrings/"] as const;
/** A keyring file: a plain name, armoured when it ends in .asc and binary when in .gpg, as apt reads it. */
const KEYRING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(gpg|asc)$/;
/** Options that make apt accept what it could not verify. */
const WEAKENING = ["trusted", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure"];

const EXAMPLE =
  "deb [signed-by=/etc/apt/keyrings/nodesource.asc] https://deb.nodesource.com/node_24.x nodistro main";
const KEYRING_ACCEPTED = `signed-by=${KEYRING_DIRS[0]}NAME.gpg (or .asc), or under ${KEYRING_DIRS[1]}: one keyring, its name letters, digits, '.', '_' and '-'`;

/**
 * The apt source line if it is one and is safe to write with `hasKey`; problems go to `f`.
 * `keyName` is the option holding its key, as the problems name it (`node.aptKey`).
 */
export function checkAptSource(
  f: Findings,
  key: string,
  raw: unknown,
  hasKey: boolean,
  keyName = "node.aptKey",
): string | undefined {
  if (typeof raw !== "string" || !/^deb [\x20-\x7e]+$/.test(raw)) {
    f.fail(key, raw, "is not one apt source line", `one line starting \`deb \`, e.g. ${EXAMPLE}`);
    return undefined;
  }
  const before = f.problems.length;
  const bracket = /^deb\s+\[([^\]]*)\]/.exec(raw);
  const options = (bracket?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
  const signedBy = options.filter((o) => /^signed-by[+-]?=/.test(o));
  for (const option of options) {
    const name = option.replace(/[+-]?=.*$/, "");
    if (WEAKENING.includes(name)) {
      f.fail(
        key,
        raw,
        `sets ${option}, which turns off apt's signature checks for this source`,
        `the source without ${WEAKENING.map((w) => `${w}=`).join(", ")}; apt then checks the repository's signature against its key, e.g. ${EXAMPLE}`,
      );
    }
  }
  if (signedBy.length > 1) {
    f.fail(key, raw, "sets signed-by more than once", `one option: ${KEYRING_ACCEPTED}`);
  } else if (signedBy.length === 1) {
    const path = signedBy[0]!.startsWith("signed-by=") ? signedBy[0]!.slice("signed-by=".length) : "";
    const dir = KEYRING_DIRS.find((d) => path.startsWith(d));
    if (!dir || !KEYRING_NAME.test(path.slice(dir.length))) {
      f.fail(
        key,
        raw,
        `sets ${signedBy[0]}, which is not a keyring in ${KEYRING_DIRS.join(" or ")}: the install step writes ${keyName} there as root`,
        KEYRING_ACCEPTED,
      );
    }
  } else if (hasKey) {
    f.fail(
      key,
      raw,
      `has no signed-by= keyring to write ${keyName} to`,
      `the source with ${KEYRING_ACCEPTED}, e.g. ${EXAMPLE}`,
    );
  }
  return f.problems.length > before ? undefined : raw;
}

/** The key, with one line break at its end, if it is an armoured OpenPGP public key. */
export function checkAptKey(f: Findings, key: string, raw: unknown): string | undefined {
  const shown = typeof raw === "string" ? `(${raw.length} characters)` : `(a ${typeof raw})`;
  const problem = typeof raw === "string" ? publicKeyProblem(raw) : { kind: "not-armoured" as const };
  if (problem === undefined) return `${(raw as string).trim()}\n`;
  const accepted =
    "the repository's public key as `gpg --armor --export` prints it, from -----BEGIN PGP PUBLIC KEY BLOCK----- to -----END PGP PUBLIC KEY BLOCK-----";
  const why =
    problem.kind === "not-armoured"
      ? "is not an ASCII-armoured PGP public key"
      : problem.kind === "checksum"
        ? "does not match its armour's checksum (the =XXXX line): it was changed or cut"
        : problem.kind === "secret"
          ? "is a secret (private) key, which has no place in a stack: apt needs the repository's public key"
          : `is not an OpenPGP public key: ${problem.why}`;
  f.fail(key, shown, why, accepted);
  return undefined;
}
