import * as net from "node:net";
import ipaddr from "ipaddr.js";

/** A network in canonical form: network address (host bits clear), IPv6 in RFC 5952 form. */
export interface Cidr {
  readonly family: 4 | 6;
  /** Canonical network address, e.g. `192.168.1.0` or `2001:db8::`. */
  readonly address: string;
  readonly prefix: number;
  /** `address/prefix`, the form every layer is given. */
  readonly text: string;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; problem: string; accepted: string };

const ACCEPTED =
  "an IPv4 or IPv6 address or network in CIDR form, e.g. 203.0.113.50, 192.168.1.0/24 or 2001:db8::/32";

/**
 * Parses one address or network strictly. ipaddr.js alone would read `010.0.0.5` as octal
 * (8.0.0.5), so node's `net.isIP` gates the address first, and a character whitelist keeps
 * zone ids (`%eth0`), whitespace and anything a shell would interpret out.
 */
export function parseCidr(input: unknown): CidrParse {
  if (typeof input !== "string") {
    return { ok: false, problem: "is not a string", accepted: ACCEPTED };
  }
  if (!/^[0-9A-Fa-f:./]+$/.test(input)) {
    return { ok: false, problem: "contains characters that are not part of an address", accepted: ACCEPTED };
  }
  const parts = input.split("/");
  if (parts.length > 2) {
    return { ok: false, problem: "has more than one '/'", accepted: ACCEPTED };
  }
  const [addressText, prefixText] = parts as [string, string | undefined];
  const family = net.isIP(addressText) as 0 | 4 | 6;
  if (family === 0) {
    const octal = /(^|\.)0\d/.test(addressText) && !addressText.includes(":");
    return {
      ok: false,
      problem: octal
        ? "has a leading zero, which some tools read as octal (010 = 8)"
        : "is not a valid IPv4 or IPv6 address",
      accepted: octal ? "decimal octets without leading zeros, e.g. 10.0.0.1" : ACCEPTED,
    };
  }
  const address = ipaddr.parse(addressText);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return {
      ok: false,
      problem: "is an IPv4-mapped IPv6 address",
      accepted: `the plain IPv4 form, ${(address as ipaddr.IPv6).toIPv4Address().toString()}`,
    };
  }
  const maxPrefix = family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return {
        ok: false,
        problem: `has prefix length '/${prefixText}', outside the IPv${family} range`,
        accepted: `a prefix from /0 to /${maxPrefix}`,
      };
    }
    prefix = Number(prefixText);
  }
  const network = networkAddress(address, prefix);
  const canonical = family === 4 ? network.toString() : (network as ipaddr.IPv6).toRFC5952String();
  if (!sameBytes(network, address)) {
    return {
      ok: false,
      problem: `has host bits set; did you mean ${canonical}/${prefix}?`,
      accepted: `the network address for /${prefix}, ${canonical}/${prefix}`,
    };
  }
  return { ok: true, cidr: { family, address: canonical, prefix, text: `${canonical}/${prefix}` } };
}

/** Parses a CIDR already known to be valid (internal use, tests). */
export function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(`invalid CIDR ${text}: ${parsed.problem}`);
  return parsed.cidr;
}

function networkAddress(address: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes = address.toByteArray().map((byte, i) => {
    const bitsInByte = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - bitsInByte)) & 0xff);
  });
  return ipaddr.fromByteArray(bytes);
}

function sameBytes(a: ipaddr.IPv4 | ipaddr.IPv6, b: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const x = a.toByteArray();
  const y = b.toByteArray();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The whole address space of a family: `0.0.0.0/0` or `::/0`. */
export function isWorld(c: Cidr): boolean {
  return c.prefix === 0;
}

/** The first and the last address of a network, as numbers. */
function bounds(c: Cidr): [bigint, bigint] {
  const start = ipaddr
    .parse(c.address)
    .toByteArray()
    .reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  return [start, start + (1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n];
}

/**
 * True when the networks of `family` on the list together hold every address of that family,
 * however they are split (`0.0.0.0/1` + `128.0.0.0/1` is the whole of IPv4): the union of
 * their ranges, merged in address order, must run from the first address to the last.
 */
export function coversFamily(cidrs: readonly Cidr[], family: 4 | 6): boolean {
  const ranges = cidrs
    .filter((c) => c.family === family)
    .map(bounds)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let next = 0n; // the first address not covered yet
  for (const [start, end] of ranges) {
    if (start > next) return false;
    if (end >= next) next = end + 1n;
  }
  return next === 1n << BigInt(family === 4 ? 32 : 128);
}

/** True when every address of `inner` is also in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const a = ipaddr.parse(inner.address);
  return outer.family === 4
    ? (a as ipaddr.IPv4).match(ipaddr.parse(outer.address) as ipaddr.IPv4, outer.prefix)
    : (a as ipaddr.IPv6).match(ipaddr.parse(outer.address) as ipaddr.IPv6, outer.prefix);
}

/** Total order: IPv4 before IPv6, then by address bytes, then wider networks first. */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  const x = ipaddr.parse(a.address).toByteArray();
  const y = ipaddr.parse(b.address).toByteArray();
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return a.prefix - b.prefix;
}

/** Non-routable sources: RFC 1918, CGNAT, loopback, link-local, IPv6 ULA and link-local. */
export function isPrivate(c: Cidr): boolean {
  const range = ipaddr.parse(c.address).range();
  return ["private", "uniqueLocal", "carrierGradeNat", "loopback", "linkLocal"].includes(range);
}

/** True for a single address that is private (e.g. a home server's LAN address). */
export function isPrivateAddress(address: string): boolean {
  const parsed = parseCidr(address);
  return parsed.ok && isPrivate(parsed.cidr);
}
