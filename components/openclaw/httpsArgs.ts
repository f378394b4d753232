/**
 * The `openclaw.https` block's own values: the domain, the ACME account's address, the ACME
 * directory, the roots it chains to, and where Caddy comes from. What the block asks of the
 * policy is in httpsPolicy.ts. Pure; every problem names its key, the value (never a private
 * key's text) and what is accepted.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import * as url from "node:url";
import { Findings } from "../policy/errors";
import { closestName } from "../policy/suggest";
import { checkAptKey, checkAptSource } from "./apt";
import { checkUrl } from "./urlCheck";
import { type CaddySource, DEFAULT_ACME_DIRECTORY } from "./types";

export const HTTPS_KNOWN = ["domain", "email", "acmeDirectory", "acmeRoot", "caddy"] as const;
const CADDY_KNOWN = ["aptSource", "aptKey"] as const;

/** The block's values, checked; the policy's part (`sources`) is added once the policy is known. */
export interface HttpsValues {
  readonly domain: string;
  readonly email: string;
  readonly acmeDirectory: string;
  readonly acmeRoot?: string;
  readonly caddy: CaddySource;
}

const DOMAIN_ACCEPTED =
  "a fully qualified domain name you own, whose DNS record points at the server, e.g. openclaw.example.com: " +
  "labels of letters, digits and '-' (not at either end), 1 to 63 characters each, at most 253 in all";
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The domain in lower case without a trailing dot, as browsers send it in `Origin` and `Host`
 * (the gateway's allowed origin must match it exactly), or undefined with a problem.
 */
export function checkDomain(f: Findings, key: string, raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw === "") {
    f.fail(key, raw, raw === undefined ? "is required with https" : "is not a domain name", DOMAIN_ACCEPTED);
    return undefined;
  }
  const bare = raw.replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(bare) !== 0) {
    f.fail(
      key,
      raw,
      "is an IP address: an ACME certificate for the proxy is issued for a name, validated over HTTP-01 at that name",
      DOMAIN_ACCEPTED,
    );
    return undefined;
  }
  if (raw.includes("*")) {
    f.fail(
      key,
      raw,
      "is a wildcard: HTTP-01, the challenge Caddy answers on port 80, cannot prove a wildcard (that takes DNS-01)",
      `one name, without '*', e.g. ${raw.replace(/^\*\./, "openclaw.")}`,
    );
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(raw)) {
    const ascii = url.domainToASCII(raw.replace(/\.$/, ""));
    f.fail(
      key,
      raw,
      "is not ASCII: an internationalised name is written in its ASCII (punycode) form",
      ascii ? `${ascii}, the same name in ASCII` : DOMAIN_ACCEPTED,
    );
    return undefined;
  }
  const domain = raw.toLowerCase().replace(/\.$/, "");
  const labels = domain.split(".");
  const why =
    domain.length > 253
      ? `is ${domain.length} characters long, more than a domain name's 253`
      : labels.length < 2
        ? "is not fully qualified: one label, with no domain above it"
        : labels.some((l) => l.length > 63)
          ? "has a label longer than 63 characters"
          : labels.some((l) => !LABEL.test(l))
            ? "has an empty label, or one with a character other than letters, digits and '-', or '-' at an end"
            : /^[0-9]+$/.test(labels[labels.length - 1]!)
              ? "ends in a numeric label, which no top-level domain is"
              : undefined;
  if (why) {
    f.fail(key, raw, why, DOMAIN_ACCEPTED);
    return undefined;
  }
  return domain;
}

/** Letters, digits and `. _ % + -`: what addresses use, and nothing Caddy's config would read otherwise. */
const LOCAL_PART = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*$/;

/** The ACME account's contact address: `local@domain`, its domain checked as `domain` is. */
export function checkEmail(f: Findings, key: string, raw: unknown): string | undefined {
  const accepted =
    "an email address for the ACME account, e.g. ops@example.com: the CA writes there about expiring " +
    "certificates and problems; letters, digits and . _ % + - before the @, a domain name after it";
  const at = typeof raw === "string" ? raw.lastIndexOf("@") : -1;
  const local = typeof raw === "string" ? raw.slice(0, at) : "";
  if (typeof raw !== "string" || at <= 0 || local.length > 64 || !LOCAL_PART.test(local)) {
    f.fail(key, raw, raw === undefined ? "is required with https" : "is not an email address", accepted);
    return undefined;
  }
  // checkDomain words its problem for the domain key; the address's is said here, once.
  const domain = checkDomain(new Findings(), key, raw.slice(at + 1));
  if (domain === undefined) {
    f.fail(key, raw, "is not an email address: the part after @ is not a domain name", accepted);
    return undefined;
  }
  return `${local}@${domain}`;
}

/** An https URL without credentials, query or fragment; credentials are never shown. */
export function checkAcmeDirectory(f: Findings, key: string, raw: unknown): string {
  if (raw === undefined) return DEFAULT_ACME_DIRECTORY;
  const parsed = checkUrl(f, key, raw, {
    schemes: ["https:"],
    accepted: `an https URL of an ACME (RFC 8555) directory, without credentials, query or fragment, e.g. ${DEFAULT_ACME_DIRECTORY} (Let's Encrypt, the default)`,
    badScheme: (p) =>
      p ? "is not https: ACME's account key and orders travel over it" : "is not an https URL",
  });
  return parsed?.href ?? DEFAULT_ACME_DIRECTORY;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * PEM CERTIFICATE blocks, each a CA certificate, re-joined one after the other with one line
 * break at the end. Nothing of the text is ever shown: a private key pasted by mistake must not
 * reach a log.
 */
export function checkAcmeRoot(f: Findings, key: string, raw: unknown): string | undefined {
  const accepted =
    "the CA's root certificates as PEM, one or more -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- " +
    "blocks and nothing else (no private key, no other text), e.g. from: openssl x509 -in root.crt -outform PEM";
  if (typeof raw !== "string") {
    f.fail(key, `(a ${raw === null ? "null" : typeof raw})`, "is not text", accepted);
    return undefined;
  }
  const shown = `(${raw.length} characters, not shown)`;
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z0-9 ]*-----/.test(raw)) {
    f.fail(
      key,
      shown,
      "holds a private key, which has no place in a stack: the host needs only the CA's certificates",
      accepted,
    );
    return undefined;
  }
  const blocks = [...raw.matchAll(PEM_BLOCK)];
  const rest = raw.replace(PEM_BLOCK, "");
  if (blocks.length === 0 || rest.trim() !== "") {
    f.fail(
      key,
      shown,
      blocks.length === 0 ? "holds no PEM block" : "holds text outside its PEM blocks",
      accepted,
    );
    return undefined;
  }
  const pems: string[] = [];
  for (const [i, [, begin, body, end]] of blocks.entries()) {
    const where = `block ${i + 1} of ${blocks.length}`;
    if (begin !== "CERTIFICATE" || end !== "CERTIFICATE") {
      f.fail(key, shown, `${where} is a ${begin} block, not a CERTIFICATE`, accepted);
      return undefined;
    }
    const base64 = body!.replace(/\s+/g, "");
    const pem = `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END CERTIFICATE-----`;
    let cert: crypto.X509Certificate;
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error("not base64");
      cert = new crypto.X509Certificate(pem);
    } catch {
      f.fail(key, shown, `${where} is not an X.509 certificate (cut, or changed?)`, accepted);
      return undefined;
    }
    if (!cert.ca) {
      f.fail(
        key,
        shown,
        `${where} (subject ${cert.subject.replace(/\n/g, ", ")}) is not a CA certificate: a server's own certificate cannot be a root others chain to`,
        accepted,
      );
      return undefined;
    }
    pems.push(pem);
  }
  return `${pems.join("\n")}\n`;
}

/** `https.caddy`: the distribution's package unless an apt source is named, checked as Node's is. */
export function parseCaddy(
  f: Findings,
  key: string,
  raw: unknown,
  isRecord: (v: unknown) => v is Record<string, unknown>,
): CaddySource | undefined {
  if (raw === undefined) return { kind: "distribution" };
  if (!isRecord(raw)) {
    f.fail(
      key,
      raw,
      "is not an object",
      `an object with ${CADDY_KNOWN.join(", ")}, or leave it unset for the distribution's caddy package`,
    );
    return undefined;
  }
  const before = f.problems.length;
  for (const name of Object.keys(raw)) {
    if ((CADDY_KNOWN as readonly string[]).includes(name)) continue;
    const guess = closestName(name, CADDY_KNOWN);
    f.fail(
      `${key}.${name}`,
      name,
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${CADDY_KNOWN.join(", ")}`,
    );
  }
  if (raw["aptSource"] === undefined) {
    if (raw["aptKey"] !== undefined) {
      f.fail(`${key}.aptKey`, "(a key)", "is only used with aptSource", `aptSource with it, or no aptKey`);
    }
    return f.problems.length > before ? undefined : { kind: "distribution" };
  }
  const source = checkAptSource(
    f,
    `${key}.aptSource`,
    raw["aptSource"],
    raw["aptKey"] !== undefined,
    "https.caddy.aptKey",
  );
  const aptKey = raw["aptKey"] === undefined ? undefined : checkAptKey(f, `${key}.aptKey`, raw["aptKey"]);
  if (f.problems.length > before) return undefined;
  return { kind: "apt", source: source!, ...(aptKey === undefined ? {} : { key: aptKey }) };
}

/** The block's values, or undefined with its problems in `f`. */
export function parseHttpsValues(
  f: Findings,
  key: string,
  raw: unknown,
  isRecord: (v: unknown) => v is Record<string, unknown>,
): HttpsValues | undefined {
  if (!isRecord(raw)) {
    f.fail(
      key,
      raw,
      "is not an object",
      `an object with ${HTTPS_KNOWN.join(", ")} (domain and email required), or leave it unset for no proxy`,
    );
    return undefined;
  }
  const before = f.problems.length;
  for (const name of Object.keys(raw)) {
    if ((HTTPS_KNOWN as readonly string[]).includes(name)) continue;
    const guess = closestName(name, HTTPS_KNOWN);
    f.fail(
      `${key}.${name}`,
      name,
      guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
      `one of ${HTTPS_KNOWN.join(", ")}`,
    );
  }
  const domain = checkDomain(f, `${key}.domain`, raw["domain"]);
  const email = checkEmail(f, `${key}.email`, raw["email"]);
  const acmeDirectory = checkAcmeDirectory(f, `${key}.acmeDirectory`, raw["acmeDirectory"]);
  const acmeRoot =
    raw["acmeRoot"] === undefined ? undefined : checkAcmeRoot(f, `${key}.acmeRoot`, raw["acmeRoot"]);
  const caddy = parseCaddy(f, `${key}.caddy`, raw["caddy"], isRecord);
  if (f.problems.length > before) return undefined;
  return {
    domain: domain!,
    email: email!,
    acmeDirectory,
    ...(acmeRoot === undefined ? {} : { acmeRoot }),
    caddy: caddy!,
  };
}
