import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import fc from "fast-check";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { renderAwsRules } from "../../components/cloud/awsRules";
import { renderHcloudRules } from "../../components/cloud/hcloudRules";
import { renderSshReplies } from "../../components/hardening/sshReplies";
import { renderDockerRules } from "../../components/hardening/dockerRules";
import { renderUfwRules } from "../../components/hardening/ufwRules";
import type { FirewallConfig, FirewallPolicy, ServiceConfig } from "../../components/policy/types";
import { componentKeys, parseServerArgs } from "../../components/serverArgs";
import { ACME_HTTP_SERVICE, HTTPS_SERVICE } from "../../components/openclaw/types";
import { splitPorts } from "../support/configs";
import {
  type Entry,
  Oracle,
  boundaryAddresses,
  boundaryPorts,
  fromAws,
  fromHcloud,
  fromSshReplies,
  fromUfw,
  declaredEntries,
  splitPeer,
  sshReplyEntries,
} from "../support/admitted";

const RUNS = 1000;

// Addresses come from a few documentation and private bases so that generated networks often
// contain, duplicate or neighbour each other: the cases normalisation has to get right.
const v4Network = fc
  .record({
    base: fc.constantFrom([10, 0], [192, 0], [198, 51], [203, 0]),
    c: fc.integer({ min: 0, max: 3 }),
    d: fc.integer({ min: 0, max: 255 }),
    prefix: fc.integer({ min: 8, max: 32 }),
    bare: fc.boolean(),
  })
  .map(({ base, c, d, prefix, bare }) => {
    const value = ((base[0]! << 24) | (base[1]! << 16) | (c << 8) | d) >>> 0;
    const masked = prefix === 0 ? 0 : (value & (~0 << (32 - prefix))) >>> 0;
    const text = [24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".");
    return prefix === 32 && bare ? text : `${text}/${prefix}`;
  });

const v6Network = fc
  .record({
    group: fc.integer({ min: 0, max: 3 }),
    low: fc.integer({ min: 0, max: 0xffff }),
    prefix: fc.constantFrom(32, 33, 48, 64, 127, 128),
    style: fc.constantFrom("short", "long", "upper"),
  })
  .map(({ group, low, prefix, style }) => {
    // 2001:db8:G::L, masked to the prefix (only the low group can carry host bits here).
    const keepLow = prefix === 128 ? low : prefix === 127 ? low & 0xfffe : 0;
    const keepGroup = prefix >= 48 ? group : 0;
    const long = `2001:0db8:${keepGroup.toString(16).padStart(4, "0")}:0000:0000:0000:0000:${keepLow.toString(16).padStart(4, "0")}`;
    const short = `2001:db8:${keepGroup.toString(16)}::${keepLow.toString(16)}`;
    const text = style === "long" ? long : style === "upper" ? short.toUpperCase() : short;
    return `${text}/${prefix}`;
  });

const portSpec = (base: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4 }), fc.boolean())
    .map(([offset, width, asString]) =>
      width === 0
        ? asString
          ? String(base + offset)
          : base + offset
        : `${base + offset}-${base + offset + width}`,
    );

const config = fc
  .record({
    ipv6: fc.boolean(),
    serviceCount: fc.integer({ min: 0, max: 4 }),
    egress: fc.boolean(),
    // A port only root can bind, and one any local process can wherever sshd does not hold it.
    sshPort: fc.constantFrom(22, 2222),
  })
  .chain(({ ipv6, serviceCount, egress, sshPort }) => {
    const source = ipv6 ? fc.oneof(v4Network, v6Network) : v4Network;
    const service = (i: number) =>
      fc.record({
        name: fc.constant(`svc-${i}`),
        ports: fc.array(portSpec(1000 * (i + 1)), { minLength: 1, maxLength: 3 }),
        protocol: fc.constantFrom("tcp", "udp"),
        sources: fc.array(source, { minLength: 1, maxLength: 4 }),
        world: fc.constantFrom("none", "v4", "v6", "both"),
        rateLimit: fc.boolean(),
      });
    // Who may reach the proxy when openclaw.https is on (about half the policies).
    const https = fc.option(
      fc.record({
        sources: fc.array(source, { minLength: 1, maxLength: 3 }),
        world: fc.constantFrom("none", "v4", "v6", "both"),
      }),
      { freq: 2 },
    );
    return fc.record({
      https,
      ipv6: fc.constant(ipv6),
      sshPort: fc.constant(sshPort),
      ssh: fc.array(source, { minLength: 1, maxLength: 3 }),
      services: fc.tuple(...Array.from({ length: serviceCount }, (_, i) => service(i))),
      egress: egress
        ? fc.record({
            entries: fc.array(
              fc.record({
                ports: fc.array(portSpec(40000), { minLength: 1, maxLength: 2 }),
                protocol: fc.constantFrom("tcp", "udp"),
                dest: fc.array(source, { minLength: 1, maxLength: 3 }),
                world: fc.constantFrom("none", "none", "v4", "v6", "both"),
              }),
              // Empty too: deny with nothing allowed must deny everything on every layer.
              { minLength: 0, maxLength: 3 },
            ),
            // An entry written twice under another name, as a merged config or a copy-paste
            // makes it: every layer must refuse it the same way.
            repeat: fc.option(fc.nat(), { freq: 4 }),
          })
        : fc.constant(undefined),
    });
  })
  .map(({ https, ipv6, sshPort, ssh, services, egress }): FirewallConfig => ({
    ipv6,
    ssh: { port: sshPort, adminCidrs: ssh },
    services: [
      ...services,
      ...(https ? [{ ...https, name: HTTPS_SERVICE, ports: [443], protocol: "tcp", rateLimit: false }] : []),
    ].map((s) => {
      const world = [
        ...(s.world === "v4" || s.world === "both" ? ["0.0.0.0/0"] : []),
        ...(ipv6 && (s.world === "v6" || s.world === "both") ? ["::/0"] : []),
      ];
      return {
        name: s.name,
        ...splitPorts(s.ports),
        protocol: s.protocol,
        sources: [...s.sources, ...world],
        rateLimit: s.rateLimit,
        ...(world.length > 0 ? { public: true } : {}),
      };
    }),
    ...(egress
      ? {
          outgoing: {
            policy: "deny" as const,
            allow: [
              ...egress.entries,
              ...(egress.repeat === null || egress.entries.length === 0
                ? []
                : [egress.entries[egress.repeat % egress.entries.length]!]),
            ].map((e, i) => ({
              name: `out-${i}`,
              ...splitPorts(e.ports),
              protocol: e.protocol,
              destinations: [
                ...e.dest,
                ...(e.world === "v4" || e.world === "both" ? ["0.0.0.0/0"] : []),
                ...(ipv6 && (e.world === "v6" || e.world === "both") ? ["::/0"] : []),
              ],
            })),
          },
        }
      : {}),
  }));

const allPorts = (e: { ports?: number[]; portRanges?: string[] }) => [
  ...(e.ports ?? []),
  ...(e.portRanges ?? []),
];

/** An entry's ports as maximal runs, the way the parser merges them: [from, to] pairs. */
function portRuns(specs: readonly (number | string)[]): string[] {
  const ports = new Set<number>();
  for (const p of specs) {
    const [from, to] = String(p).split("-").map(Number) as [number, number | undefined];
    for (let q = from; q <= (to ?? from); q++) ports.add(q);
  }
  const sorted = [...ports].sort((a, b) => a - b);
  return sorted
    .filter((q, i) => sorted[i - 1] !== q - 1)
    .map((q) => {
      let end = q;
      while (ports.has(end + 1)) end++;
      return `${q}-${end}`;
    });
}

function inside(inner: string, outer: string): boolean {
  const a = splitPeer(inner);
  const b = splitPeer(outer);
  if (a.family !== b.family || b.prefix > a.prefix) return false;
  const list = new net.BlockList();
  list.addSubnet(b.address, b.prefix, b.family === 4 ? "ipv4" : "ipv6");
  return list.check(a.address, a.family === 4 ? "ipv4" : "ipv6");
}

/**
 * Does a later outgoing entry allow a (protocol, port range, destination) an earlier one already
 * allows? Destinations inside another of the same entry are dropped first, as the parser does.
 */
function repeatsOutgoing(c: FirewallConfig): boolean {
  const allow = c.outgoing?.allow ?? [];
  return allow.some((later, j) => {
    const own = later.destinations!;
    const kept = own.filter(
      (d, k) =>
        !own.some((o, m) => (inside(d, o) && !inside(o, d)) || (m < k && inside(d, o) && inside(o, d))),
    );
    return allow
      .slice(0, j)
      .some(
        (earlier) =>
          (earlier.protocol ?? "tcp") === (later.protocol ?? "tcp") &&
          portRuns(allPorts(later)).some((r) => portRuns(allPorts(earlier)).includes(r)) &&
          kept.some((d) => earlier.destinations!.some((e) => inside(d, e))),
      );
  });
}

const withHttps = (c: FirewallConfig) => (c.services ?? []).some((s) => s.name === HTTPS_SERVICE);

/**
 * The policy the layers are rendered from, as the component makes it: with an `openclaw-https`
 * service, through the whole parse with `openclaw.https` on (so the derived `openclaw-acme-http`
 * is in it); else the declared policy.
 */
function policyOf(c: FirewallConfig): FirewallPolicy {
  if (!withHttps(c)) return parsePolicy(c).policy;
  return parseServerArgs(
    {
      firewall: c,
      existing: { address: "192.0.2.10" },
      ssh: { user: "admin", privateKey: "k" },
      openclaw: { enabled: true, https: { domain: "openclaw.example.com", email: "ops@example.com" } },
    },
    componentKeys("edge"),
  ).policy;
}

/**
 * What the layers must admit: the config as written, and with https, 80/tcp from anywhere as if
 * the operator had declared it.
 */
function truthOf(c: FirewallConfig): FirewallConfig {
  if (!withHttps(c)) return c;
  const acme: ServiceConfig = {
    name: ACME_HTTP_SERVICE,
    port: 80,
    sources: c.ipv6 === false ? ["0.0.0.0/0"] : ["0.0.0.0/0", "::/0"],
  };
  return { ...c, services: [...(c.services ?? []), acme] };
}

/** A port no generated rule names: the remote port of a reply, the local port of a client. */
const EPHEMERAL = 50000;

test(`AWS, Hetzner and UFW renderings admit exactly the declared traffic (${RUNS} random policies)`, () => {
  let repeats = 0;
  let https = 0;
  fc.assert(
    fc.property(config, (c) => {
      if (repeatsOutgoing(c)) {
        repeats++;
        // Refused before any layer is rendered, naming the repeating entry.
        assert.throws(
          () => parsePolicy(c),
          (e: unknown) =>
            e instanceof PolicyError &&
            e.problems.every(
              (p) =>
                /^openclaw:firewall\.outgoing\.allow\[\d+\]$/.test(p.key) &&
                /already allowed/.test(p.problem),
            ),
        );
        return;
      }
      if (withHttps(c)) https++;
      const policy = policyOf(c);
      const truth = declaredEntries(truthOf(c));
      // One resource name per AWS rule, and no two UFW rules that UFW would hold as one (it
      // ignores the comment when it compares rules): otherwise a layer collapses or collides.
      const keys = renderAwsRules(policy).map((r) => r.key);
      assert.equal(new Set(keys).size, keys.length, `repeated AWS rule names: ${keys.join(" ")}`);
      const ufwRules = renderUfwRules(policy).map((l) => l.replace(/ comment '[^']*'$/, ""));
      assert.equal(
        new Set(ufwRules).size,
        ufwRules.length,
        `UFW rules UFW would merge: ${ufwRules.join("; ")}`,
      );
      const replies = renderSshReplies(policy);
      const layers: Record<string, Entry[]> = {
        aws: fromAws(renderAwsRules(policy)),
        hcloud: fromHcloud(renderHcloudRules(policy), policy.ipv6),
        // UFW's rules, and our chain off its after-output chain.
        ufw: [
          ...fromUfw(renderUfwRules(policy), policy.ipv6, policy.outgoing.policy === "allow"),
          ...fromSshReplies(replies.v4, 4),
          ...fromSshReplies(replies.v6, 6),
        ],
      };
      const oracles = Object.fromEntries(Object.entries(layers).map(([k, v]) => [k, new Oracle(v)]));
      const expected = new Oracle(truth);
      const all = [...truth, ...Object.values(layers).flat()];
      for (const direction of ["in", "out"] as const) {
        const addresses = [
          ...new Set(all.filter((e) => e.direction === direction).flatMap((e) => boundaryAddresses(e.peer))),
        ];
        for (const protocol of ["tcp", "udp"] as const) {
          // Admission only changes at rule boundaries, so probing them covers every port.
          const ports = boundaryPorts(
            all.filter((e) => e.direction === direction && e.protocol === protocol),
          );
          for (const port of ports) {
            for (const address of addresses) {
              const want = expected.admits(direction, protocol, port, address);
              for (const [layer, oracle] of Object.entries(oracles)) {
                if (oracle.admits(direction, protocol, port, address) !== want) {
                  assert.fail(
                    `${layer} ${want ? "refuses" : "admits"} ${direction} ${protocol}/${port} ` +
                      `${address}, which the config ${want ? "admits" : "refuses"}`,
                  );
                }
              }
            }
          }
        }
      }
      // The SSH port as a source port, on UFW (the cloud firewalls track every session and
      // have no such case). A connection opened from it follows the allow-list like any other:
      // a local process can bind a port from 1024 up wherever sshd does not hold it. A packet of
      // a session conntrack never saw (the one that enables UFW) gets only UFW's rules: sshd's,
      // from the SSH port, must reach every admitted SSH source.
      const sshPort = c.ssh!.port!;
      const untracked = new Oracle([...truth, ...sshReplyEntries(c)]);
      const addresses = [...new Set(all.flatMap((e) => boundaryAddresses(e.peer)))];
      for (const sourcePort of [sshPort - 1, sshPort, sshPort + 1]) {
        for (const address of addresses) {
          for (const opening of [true, false]) {
            const want = (opening ? expected : untracked).admits(
              "out",
              "tcp",
              EPHEMERAL,
              address,
              sourcePort,
              opening,
            );
            if (oracles["ufw"]!.admits("out", "tcp", EPHEMERAL, address, sourcePort, opening) !== want) {
              assert.fail(
                `ufw ${want ? "refuses" : "admits"} ${opening ? "a new connection" : "a packet of an untracked session"} ` +
                  `(tcp) from local port ${sourcePort} to ${address}:${EPHEMERAL}`,
              );
            }
          }
          const replies = untracked.admits("out", "tcp", EPHEMERAL, address, sshPort, false);
          if (sourcePort === sshPort && expected.admits("in", "tcp", sshPort, address) && !replies) {
            assert.fail(`sshd's replies to ${address}, an SSH source, would be dropped`);
          }
        }
      }
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
  // The generator must really produce repeated outgoing entries for the refusal to be tested.
  assert.ok(repeats > RUNS / 20, `only ${repeats} of ${RUNS} policies repeated an outgoing entry`);
  // And policies with openclaw.https, for its derived service to be tested on every layer.
  assert.ok(https > RUNS / 5, `only ${https} of ${RUNS} policies had openclaw.https`);
});

test("the same config always renders byte-identical output, whatever order it is written in", () => {
  fc.assert(
    fc.property(config, fc.integer(), (c, seed) => {
      fc.pre(!repeatsOutgoing(c));
      const shuffle = <T>(xs: T[]): T[] =>
        xs
          .map((x, i) => ({ x, k: Math.sin(seed + i) }))
          .sort((a, b) => a.k - b.k)
          .map(({ x }) => x);
      const shuffled: FirewallConfig = {
        ...c,
        ssh: { ...c.ssh, adminCidrs: shuffle([...c.ssh!.adminCidrs!]) },
        services: shuffle(
          c.services!.map((s) => ({
            ...s,
            sources: shuffle([...s.sources!]),
            ...(s.ports ? { ports: shuffle([...s.ports]) } : {}),
            ...(s.portRanges ? { portRanges: shuffle([...s.portRanges]) } : {}),
          })),
        ),
      };
      const render = (x: FirewallConfig) => {
        const policy = policyOf(x);
        return JSON.stringify([
          policy,
          renderAwsRules(policy),
          renderHcloudRules(policy),
          renderUfwRules(policy),
          renderSshReplies(policy),
          renderDockerRules(policy),
        ]);
      };
      assert.equal(render(shuffled), render(c));
    }),
    { numRuns: 200 },
  );
});
