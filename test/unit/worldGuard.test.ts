// The world guard on whole lists of sources: however the address space is split, a list that
// covers all of a family opens the service to everyone and needs public: true.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { type Cidr, cidr, contains, coversFamily } from "../../components/policy/cidr";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { validConfig } from "../support/configs";

const BITS = { 4: 32, 6: 128 } as const;
/** A host on a private network: no private-source warnings in the way. */
const LAN = { key: "openclaw:firewall", hostHasPublicAddress: false };

/** The network of `family` that starts at `start` (a number) with `prefix`. */
function network(family: 4 | 6, start: bigint, prefix: number): Cidr {
  const bytes = Array.from({ length: BITS[family] / 8 }, (_, i) =>
    Number((start >> BigInt(BITS[family] - 8 * (i + 1))) & 0xffn),
  );
  return cidr(`${ipaddr.fromByteArray(bytes).toString()}/${prefix}`);
}

/**
 * A random partition of a family's whole space: start from /0 and split a random piece in two,
 * `splits` times. Pieces are disjoint and their union is everything.
 */
function partition(family: 4 | 6, choices: number[]): Cidr[] {
  let pieces: { start: bigint; prefix: number }[] = [{ start: 0n, prefix: 0 }];
  for (const choice of choices) {
    const splittable = pieces.filter((p) => p.prefix < BITS[family]);
    const piece = splittable[choice % splittable.length]!;
    const half = 1n << BigInt(BITS[family] - piece.prefix - 1);
    pieces = [
      ...pieces.filter((p) => p !== piece),
      { start: piece.start, prefix: piece.prefix + 1 },
      { start: piece.start + half, prefix: piece.prefix + 1 },
    ];
  }
  return pieces.map((p) => network(family, p.start, p.prefix));
}

/** A random address inside `c`, from `seed`. */
function addressIn(c: Cidr, seed: bigint): Cidr {
  const bits = BITS[c.family];
  const start = BigInt(`0x${Buffer.from(ipaddr.parse(c.address).toByteArray()).toString("hex")}`);
  return network(c.family, start + (seed % (1n << BigInt(bits - c.prefix))), bits);
}

const splits = fc.array(fc.nat(), { minLength: 1, maxLength: 40 });
const family = fc.constantFrom(4 as const, 6 as const);
const extras = (f: 4 | 6) =>
  fc.array(
    fc.tuple(fc.bigInt({ min: 0n, max: (1n << BigInt(BITS[f])) - 1n }), fc.integer({ min: 1, max: BITS[f] })),
    { maxLength: 5 },
  );

function refused(sources: string[], isPublic = false): boolean {
  const c = validConfig();
  try {
    parsePolicy({ ...c, services: [{ ...c.services![0], sources, public: isPublic }] });
    return false;
  } catch (e) {
    assert.ok(e instanceof PolicyError);
    return true;
  }
}

const masked = (f: 4 | 6, [start, prefix]: [bigint, number]) => {
  const hostBits = BigInt(BITS[f] - prefix);
  return network(f, (start >> hostBits) << hostBits, prefix);
};

describe("the world guard on a whole list", () => {
  test("any split of a whole family, shuffled and with extra networks, is refused without public: true", () =>
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), splits, extras(f))),
        fc.nat(),
        ([f, choices, more], shuffle) => {
          const pieces = [...partition(f, choices), ...more.map((e) => masked(f, e))];
          // Written in any order: rotated, and reversed half of the time.
          const k = shuffle % pieces.length;
          const rotated = [...pieces.slice(k), ...pieces.slice(0, k)];
          const texts = (shuffle % 2 ? rotated.reverse() : rotated).map((p) => p.text);
          assert.equal(coversFamily(pieces, f), true);
          assert.equal(refused(texts), true, texts.join(" "));
          assert.equal(refused(texts, true), false, "public: true allows it");
        },
      ),
      { numRuns: 300 },
    ));
  test("a split with one piece missing leaves a gap, and is not the world", () =>
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), splits, extras(f))),
        fc.nat(),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        ([f, choices, more], drop, seed) => {
          const pieces = partition(f, choices);
          const gone = pieces[drop % pieces.length]!;
          const left = [...pieces.filter((p) => p !== gone), ...more.map((e) => masked(f, e))];
          // An address of the missing piece that nothing left contains: a real hole.
          const hole = addressIn(gone, seed);
          fc.pre(!left.some((c) => contains(c, hole)));
          assert.equal(
            coversFamily(left, f),
            false,
            `${left.map((c) => c.text).join(" ")} misses ${hole.text}`,
          );
        },
      ),
      { numRuns: 300 },
    ));
  test("everything but one address is not the world; that address added, it is", () =>
    fc.assert(
      fc.property(family, fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (f, seed) => {
        const bits = BITS[f];
        const address = seed % (1n << BigInt(bits));
        // For each prefix, the other half of the network holding the address at that prefix.
        const siblings = Array.from({ length: bits }, (_, i) => {
          const hostBits = BigInt(bits - i - 1);
          return network(f, ((address >> hostBits) ^ 1n) << hostBits, i + 1);
        });
        assert.equal(coversFamily(siblings, f), false);
        assert.equal(refused(siblings.map((c) => c.text)), false);
        const whole = [...siblings, network(f, address, bits)];
        assert.equal(coversFamily(whole, f), true);
        assert.equal(refused(whole.map((c) => c.text)), true);
      }),
      { numRuns: 200 },
    ));
  test("the halves of IPv4 name the key, the value and what is accepted", () => {
    const c = validConfig();
    try {
      parsePolicy({ ...c, services: [{ ...c.services![0], sources: ["0.0.0.0/1", "128.0.0.0/1"] }] });
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.problems.length, 1);
      assert.equal(e.problems[0]!.key, "openclaw:firewall.services[0].sources");
      assert.match(
        e.message,
        /openclaw:firewall\.services\[0\]\.sources: \["0\.0\.0\.0\/1","128\.0\.0\.0\/1"\] together cover every IPv4 address \(0\.0\.0\.0\/1 \+ 128\.0\.0\.0\/1\), which opens the service to the whole internet without public: true\. Accepted: .*public: true/,
      );
    }
  });
  test("IPv6 split in four, and a mix of families where only one is whole", () => {
    assert.equal(refused(["::/2", "4000::/2", "8000::/1", "192.0.2.0/24"]), true);
    assert.equal(refused(["::/2", "8000::/1", "192.0.2.0/24"]), false, "4000::/2 is missing");
  });
  test("a split world on SSH gets the open-to-the-world warning", () => {
    const { warnings } = parsePolicy(
      { ...validConfig(), ssh: { adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"] } },
      LAN,
    );
    assert.deepEqual(
      warnings.map((w) => w.key),
      ["openclaw:firewall.ssh.adminCidrs"],
    );
    assert.match(warnings[0]!.message, /SSH is open to the whole internet/);
  });
  test("very broad sources are warned about: shorter than /8 in IPv4, /32 in IPv6", () => {
    const c = validConfig();
    const { warnings } = parsePolicy(
      {
        ...c,
        services: [
          {
            ...c.services![0],
            sources: ["198.51.100.0/24", "64.0.0.0/7", "10.0.0.0/8", "2001:db8::/31", "2001:db8::/32"],
          },
        ],
      },
      LAN,
    );
    assert.deepEqual(
      warnings.map((w) => `${w.key} ${w.message}`).sort(),
      [
        "openclaw:firewall.services[0].sources[1] 64.0.0.0/7 is very broad (shorter than /8): it admits 1/128 of all IPv4 addresses; list only the networks you trust",
        "openclaw:firewall.services[0].sources[3] 2001:db8::/31 is very broad (shorter than /32): it admits 1/2147483648 of all IPv6 addresses; list only the networks you trust",
        "openclaw:firewall.services[0].sources[4] 2001:db8::/32 is inside 2001:db8::/31 on the same list and is ignored",
      ].sort(),
    );
  });
});
