/**
 * Whether a text is an ASCII-armoured OpenPGP public key (RFC 9580: the armour of §6.2, the
 * packet framing of §4.2): the armour's base64 and checksum, then a walk over the packets, which
 * must be a public key's and nothing else. Only the framing is checked, not the key material or
 * its signatures (apt's gpgv does that with every Release file it reads). Pure; never says what
 * the text holds, only what is wrong with it.
 */

/** Packet tags a transferable public key is made of (RFC 9580 §10.1), and a keyring's trust packets. */
const PUBLIC_KEY = 6;
const KEY_PACKETS: ReadonlySet<number> = new Set([
  2, // signature
  PUBLIC_KEY,
  12, // trust (gpg's keyrings)
  13, // user ID
  14, // public subkey
  17, // user attribute
]);
/** Secret key and secret subkey: a private key pasted where the public one belongs. */
const SECRET_PACKETS: ReadonlySet<number> = new Set([5, 7]);

export type KeyProblem =
  | { readonly kind: "not-armoured" }
  | { readonly kind: "checksum" }
  | { readonly kind: "secret" }
  | { readonly kind: "not-a-key"; readonly why: string };

/** What is wrong with `text` as an armoured OpenPGP public key, or undefined when nothing is. */
export function publicKeyProblem(text: string): KeyProblem | undefined {
  const lines = text.trim().split(/\r?\n/);
  const type = /^-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----$/.exec(lines[0] ?? "")?.[1];
  const end = lines.findIndex((l) => /^-----END PGP (PUBLIC|PRIVATE) KEY BLOCK-----$/.test(l));
  if (!type || end !== lines.length - 1) return { kind: "not-armoured" };
  if (type === "PRIVATE") return { kind: "secret" };
  // Armour headers (Comment:, Version:) up to the first blank line, then the body.
  const blank = lines.findIndex((l) => l.trim() === "");
  const body = lines.slice(blank > 0 ? blank + 1 : 1, end).map((l) => l.trim());
  const checksumAt = body.findIndex((l) => l.startsWith("="));
  const base64 = (checksumAt >= 0 ? body.slice(0, checksumAt) : body).join("");
  const checksum = checksumAt >= 0 ? body[checksumAt]!.slice(1) : undefined;
  if (!base64 || !isBase64(base64) || (checksum !== undefined && !/^[A-Za-z0-9+/]{4}$/.test(checksum))) {
    return { kind: "not-a-key", why: "the armour's body is not base64" };
  }
  const data = Buffer.from(base64, "base64");
  if (checksum !== undefined && crc24(data) !== Buffer.from(checksum, "base64").readUIntBE(0, 3)) {
    return { kind: "checksum" };
  }
  return packetsProblem(data);
}

function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

/** The armour's checksum (RFC 9580 §6.1.1). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** Walks the packets: each header well formed, each body inside the data, the first a public key. */
function packetsProblem(data: Buffer): KeyProblem | undefined {
  const notAKey = (why: string): KeyProblem => ({ kind: "not-a-key", why });
  let at = 0;
  let first = true;
  while (at < data.length) {
    const header = data[at]!;
    if (!(header & 0x80)) return notAKey(`byte ${at} does not start a packet`);
    let tag: number;
    let length: number;
    let bodyAt: number;
    if (header & 0x40) {
      // The current format: the tag in six bits, a length of one, two or five octets.
      tag = header & 0x3f;
      const l1 = data[at + 1];
      if (l1 === undefined) return notAKey("a packet is cut short");
      if (l1 < 192) [length, bodyAt] = [l1, at + 2];
      else if (l1 < 224) [length, bodyAt] = [((l1 - 192) << 8) + (data[at + 2] ?? 0) + 192, at + 3];
      else if (l1 === 255)
        [length, bodyAt] = [data.length >= at + 6 ? data.readUInt32BE(at + 2) : -1, at + 6];
      else return notAKey("a packet has a partial body length, which no key packet may have");
    } else {
      // The legacy format: the tag in four bits, the length's size in the last two.
      tag = (header >> 2) & 0x0f;
      const size = [1, 2, 4][header & 0x03];
      if (size === undefined) return notAKey("a packet has an indeterminate length");
      length = data.length >= at + 1 + size ? data.readUIntBE(at + 1, size) : -1;
      bodyAt = at + 1 + size;
    }
    if (length < 0 || bodyAt + length > data.length) return notAKey("a packet is cut short");
    if (SECRET_PACKETS.has(tag)) return { kind: "secret" };
    if (first && tag !== PUBLIC_KEY)
      return notAKey(`it starts with a packet of tag ${tag}, not a public key`);
    if (!KEY_PACKETS.has(tag)) return notAKey(`it holds a packet of tag ${tag}, which no public key has`);
    // A key packet starts with its version: 4 (RFC 4880), 5 (LibrePGP) or 6 (RFC 9580).
    if ((tag === PUBLIC_KEY || tag === 14) && ![4, 5, 6].includes(data[bodyAt] ?? 0)) {
      return notAKey(`a key packet has version ${data[bodyAt]}, not 4, 5 or 6`);
    }
    first = false;
    at = bodyAt + length;
  }
  return first ? notAKey("it holds no packet") : undefined;
}
