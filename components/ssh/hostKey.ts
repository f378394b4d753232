import { createHash } from "node:crypto";

/**
 * The host key types a pin may name. pulumi-command asks the server for the pinned key's type
 * alone (HostKeyAlgorithms), and for `ssh-rsa` that is the SHA-1 signature, which OpenSSH 8.8
 * and later refuse: an RSA pin could never connect.
 */
export const PINNABLE_HOST_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
] as const;

/** What `sshHostKey` accepts, for the errors. */
export const HOST_KEY_ACCEPTED =
  "the host's public key line, TYPE BASE64 with TYPE ssh-ed25519 or ecdsa-sha2-nistp256/384/521, " +
  "as `ssh-keyscan -t ed25519 HOST` prints it after the host name, or the host's " +
  "/etc/ssh/ssh_host_ed25519_key.pub";

/** A host public key, parsed. */
export interface HostKey {
  readonly type: (typeof PINNABLE_HOST_KEY_TYPES)[number];
  /** `TYPE BASE64`, without a comment: what every SSH step pins. */
  readonly line: string;
  /** `SHA256:...`, as `ssh-keygen -l` and cloud consoles print it. */
  readonly fingerprint: string;
}

export type HostKeyParse =
  | { readonly ok: true; readonly key: HostKey }
  | { readonly ok: false; readonly shown: unknown; readonly problem: string };

/** What a private key pasted by mistake looks like: PEM or OpenSSH armour, PuTTY's file, or an OpenSSH key's base64 body. */
const PRIVATE_KEY = /PRIVATE KEY|PuTTY-User-Key-File|b3BlbnNzaC1rZXktdjE/;
const KEY_LINE = /^([A-Za-z0-9@._-]+) ([A-Za-z0-9+/]+={0,2})(?: [^\n\r]*)?$/;
const CURVES: Record<string, string> = {
  "ecdsa-sha2-nistp256": "nistp256",
  "ecdsa-sha2-nistp384": "nistp384",
  "ecdsa-sha2-nistp521": "nistp521",
};

/**
 * Parses a host public key line (`TYPE BASE64 [comment]`). Refused: anything else, with what
 * can be shown of it: a private key pasted by mistake, or text that is not a key line (which
 * could be one), is never shown.
 */
export function parseHostKey(value: unknown): HostKeyParse {
  if (typeof value !== "string") return { ok: false, shown: `(a ${typeof value})`, problem: "is not text" };
  const text = value.trim();
  if (PRIVATE_KEY.test(text))
    return {
      ok: false,
      shown: "(not shown)",
      problem: "is a private key: the host's private key never leaves it, and no step needs it",
    };
  const m = KEY_LINE.exec(text);
  if (!m) {
    const fields = text.split(/\s+/);
    if (fields.length >= 3 && KEY_LINE.test(fields.slice(1).join(" ")))
      return {
        ok: false,
        shown: fields.slice(0, 2).join(" "),
        problem: "starts with a host name, as a known_hosts or ssh-keyscan line does: give the key alone",
      };
    return { ok: false, shown: "(not shown)", problem: "is not a public key line" };
  }
  const [, type, base64] = m as unknown as [string, string, string];
  if (!(PINNABLE_HOST_KEY_TYPES as readonly string[]).includes(type))
    return {
      ok: false,
      shown: type,
      problem:
        type === "ssh-rsa"
          ? "is an RSA key, which cannot be pinned: the SSH steps would ask the host for SHA-1 RSA signatures, refused since OpenSSH 8.8; pin the host's ssh-ed25519 key"
          : "is not a host key type the SSH steps can pin",
    };
  if (!decodesAs(type, Buffer.from(base64, "base64")))
    return { ok: false, shown: `${type} ${base64}`, problem: `does not decode to an ${type} key` };
  return { ok: true, key: hostKey(type as HostKey["type"], base64) };
}

function hostKey(type: HostKey["type"], base64: string): HostKey {
  const digest = createHash("sha256").update(Buffer.from(base64, "base64")).digest("base64");
  return { type, line: `${type} ${base64}`, fingerprint: `SHA256:${digest.replace(/=+$/, "")}` };
}

/** The key's wire format (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4): its type, then its key data. */
function decodesAs(type: string, blob: Buffer): boolean {
  const strings: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    if (at + 4 > blob.length) return false;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return false;
    strings.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (strings[0]?.toString("latin1") !== type) return false;
  if (type === "ssh-ed25519") return strings.length === 2 && strings[1]!.length === 32;
  return strings.length === 3 && strings[1]!.toString("latin1") === CURVES[type] && strings[2]![0] === 0x04;
}

/**
 * Node program run on the deployer: reads the host keys sshd at OPENCLAW_SSH_HOST and
 * OPENCLAW_SSH_PORT presents, with OpenSSH's `ssh-keyscan` (no login: the key exchange only),
 * and prints the pinnable ones, `TYPE BASE64` a line, preferred first. OPENCLAW_HOST_KEY_MODE:
 * - `record`, the first contact: prints the preferred key alone and fails when there is none. Run
 *   again as an update (anything but a new host), it prints the key it took before
 *   (PULUMI_COMMAND_STDOUT, from the command provider): only a new host takes a new key.
 * - `check`, before the SSH steps of a deployment: prints every key, or nothing, and exits 0;
 *   the component compares them with the pin.
 */
export const HOST_KEY_SCRIPT = String.raw`
const { spawnSync } = require("node:child_process");
const host = process.env.OPENCLAW_SSH_HOST;
const port = process.env.OPENCLAW_SSH_PORT;
const record = process.env.OPENCLAW_HOST_KEY_MODE === "record";
const where = (host.includes(":") ? "[" + host + "]:" : host + ":") + port;
const order = ${JSON.stringify(PINNABLE_HOST_KEY_TYPES)};

function main() {
  const previous = (process.env.PULUMI_COMMAND_STDOUT || "").trim();
  if (record && previous) return console.log(previous);
  const scan = spawnSync("ssh-keyscan", ["-T", "10", "-p", port, "-t", "ed25519,ecdsa", host], {
    encoding: "utf8",
    timeout: 60000,
  });
  const keys = (scan.stdout || "")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && order.includes(f[1]))
    .sort((a, b) => order.indexOf(a[1]) - order.indexOf(b[1]))
    .map((f) => f[1] + " " + f[2]);
  // ssh-keyscan reports the server's identification line on stderr: sshd answered.
  const banner = ((scan.stderr || "").match(/SSH-2\.0-\S*/) || [])[0];
  if (keys.length > 0) {
    if (banner) console.error("openclaw: " + where + " answered (" + banner + ")");
    return console.log(record ? keys[0] : keys.join("\n"));
  }
  let why = where + " did not answer ssh-keyscan within 10 s";
  if (scan.error && scan.error.code === "ENOENT")
    why = "ssh-keyscan (OpenSSH's client) is not installed on this machine; the SSH steps pin the host key it reads";
  else if (scan.error) why = "ssh-keyscan failed: " + scan.error.message;
  else if (banner) why = where + " answered (" + banner + ") but presents no ssh-ed25519 or ECDSA host key";
  console.error("openclaw: " + why);
  if (record) process.exitCode = 1;
}

main();
`;

/** What a check found at the host, compared with the pin. */
export type HostKeyVerdict =
  | { readonly kind: "match" }
  | { readonly kind: "unreachable"; readonly reason: string }
  | { readonly kind: "mismatch"; readonly seen?: HostKey; readonly offered: readonly HostKey[] };

/** Compares what HOST_KEY_SCRIPT printed in `check` mode with the pinned key. */
export function compareHostKey(pinned: HostKey, stdout: string, stderr: string): HostKeyVerdict {
  const offered = scannedKeys(stdout);
  const seen = offered.find((k) => k.type === pinned.type);
  if (seen?.line === pinned.line) return { kind: "match" };
  if (seen || offered.length > 0 || /answered/.test(stderr))
    return { kind: "mismatch", ...(seen ? { seen } : {}), offered };
  return { kind: "unreachable", reason: stderr.replace(/^openclaw: /, "").trim() || "no answer" };
}

/** The keys HOST_KEY_SCRIPT printed, `TYPE BASE64` a line; anything else is skipped. */
export function scannedKeys(stdout: string): HostKey[] {
  return stdout
    .split("\n")
    .map((line) => parseHostKey(line))
    .flatMap((p) => (p.ok ? [p.key] : []));
}

/** Where the pin came from, for what the messages tell the operator to do. */
export type PinSource =
  | { readonly kind: "config"; readonly key: string }
  | {
      readonly kind: "first-contact";
      /** The config key that would pin it instead. */
      readonly key: string;
      /** The first-contact step's resource name and URN. */
      readonly step: string;
      readonly urn: string;
    };

/** How the pin was chosen, in a few words, for the log line that names the SSH steps' target. */
export function describePin(pinned: HostKey, source: PinSource): string {
  return source.kind === "config"
    ? `the host key ${pinned.type} ${pinned.fingerprint}, pinned in ${source.key}`
    : `the host key ${pinned.type} ${pinned.fingerprint}, taken at first contact by ${source.step} (trust on first use; ${source.key} pins one instead)`;
}

/**
 * The error for a host that presents another key than the pinned one: both fingerprints, that
 * nothing was sent, and what to do after a legitimate reinstall (the key to change, or the
 * command that takes the key again), or else.
 */
export function renderHostKeyMismatch(
  where: string,
  pinned: HostKey,
  verdict: Extract<HostKeyVerdict, { kind: "mismatch" }>,
  source: PinSource,
): string {
  const presents = verdict.seen
    ? `the ${verdict.seen.type} host key ${verdict.seen.fingerprint}`
    : `no ${pinned.type} host key (${
        verdict.offered.length > 0
          ? `it offers ${verdict.offered.map((k) => `${k.type} ${k.fingerprint}`).join(", ")}`
          : "it offers none that can be pinned"
      })`;
  const expected =
    source.kind === "config"
      ? `${source.key} pins ${pinned.fingerprint}`
      : `this stack pinned ${pinned.fingerprint} when it first reached the host (${source.step}, kept in the stack's state)`;
  const seenFingerprint = verdict.seen?.fingerprint ?? "the host's key";
  const keyFile = `/etc/ssh/ssh_host_${pinned.type === "ssh-ed25519" ? "ed25519" : "ecdsa"}_key.pub`;
  const retake =
    source.kind === "config"
      ? `set ${source.key} to the host's new public key line`
      : `take the host's key again with: pulumi up --replace '${source.urn}' (or pin it in ${source.key})`;
  return [
    `openclaw: the host at ${where} presents ${presents}, but ${expected}. ` +
      "No SSH step ran: nothing was sent to it.",
    `If the host was reinstalled, compare ${seenFingerprint} with what the host itself shows ` +
      `(its console: ssh-keygen -lf ${keyFile}; on AWS, the console output cloud-init prints), ` +
      `then ${retake}. Otherwise another machine answers at that address: do not deploy to it.`,
  ].join("\n");
}
