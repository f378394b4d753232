// Every policy `npm run plan` accepts converges and verifies on a real host, and the host then
// admits exactly what the policy declares. Random valid policies are applied in sequence to one
// sandbox host and each is checked from outside, over IPv4 and IPv6, TCP and UDP, incoming and
// outgoing, against the declared config read by an oracle that shares no code with the core.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { documentedOutgoing, splitPorts } from "../support/configs";
import { type Sandbox, sandboxUnavailable } from "../support/host/sandbox";
import { applySteps } from "../support/host/deploy";
import { HOME_FIREWALL, applyOk, homeSteps, sandboxPool, hostSuiteSkip } from "../support/host/hostTest";
import { Oracle, declaredEntries } from "../support/admitted";
import type { Target } from "../support/host/netprobe";
import type { FirewallConfig } from "../../components/policy/types";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";

const skip = hostSuiteSkip(sandboxUnavailable());
const newSandbox = sandboxPool();

/** Fixed, so CI runs the same policies every time; HOST_PROPERTY_SEED=N tries others. */
const SEED = Number(process.env["HOST_PROPERTY_SEED"] ?? 20261130);
const RUNS = Number(process.env["HOST_PROPERTY_RUNS"] ?? 10);

/** Ports the server listens on (TCP and UDP; sshd on 22) and the peers listen on for outgoing. */
const IN_TCP = [22, 8000, 8001, 8080, 9000, 9001, 3306];
const IN_UDP = [8000, 8001, 8080, 9000, 9001, 3306];
const OUT_PORTS = [123, 443, 444];
/** Port groups a service can take, so no two services claim the same port. */
const SERVICE_PORTS: (number | string)[][] = [
  [8000, 8001, "8000-8001"],
  [8080],
  [9000, 9001, "9000-9001"],
  [3306],
];

// The sandbox's peers and networks around them: trusted 192.168.1.10, untrusted 203.0.113.10,
// admin 198.51.100.10 (and 2001:db8:1::10, :2::10, :3::10).
const V4 = [
  "192.168.1.0/24",
  "192.168.1.10",
  "203.0.113.0/24",
  "203.0.113.10",
  "198.51.100.0/24",
  "10.0.0.0/8",
];
const V6 = ["2001:db8:1::/64", "2001:db8:2::10", "2001:db8:3::/64", "2001:db8::/32"];

const config: fc.Arbitrary<FirewallConfig> = fc
  .constantFrom(true, true, true, false)
  .chain((ipv6) => {
    const pool = ipv6 ? [...V4, ...V6] : V4;
    const sources = fc.record({
      some: fc.subarray(pool, { minLength: 1, maxLength: 3 }),
      world: fc.constantFrom("none", "none", "v4", "v6", "both"),
    });
    const withWorld = ({ some, world }: { some: string[]; world: string }) => {
      const w = [
        ...(world === "v4" || world === "both" ? ["0.0.0.0/0"] : []),
        ...(ipv6 && (world === "v6" || world === "both") ? ["::/0"] : []),
      ];
      return { list: [...some, ...w], open: w.length > 0 };
    };
    const service = (ports: (number | string)[], i: number) =>
      fc
        .record({
          ports: fc.subarray(ports, { minLength: 1, maxLength: Math.min(2, ports.length) }),
          protocol: fc.constantFrom("tcp", "udp"),
          sources,
          rateLimit: fc.boolean(),
        })
        .map(({ ports: p, protocol, sources: s, rateLimit }) => {
          const { list, open } = withWorld(s);
          return {
            name: `svc-${i}`,
            ...splitPorts(p),
            protocol,
            sources: list,
            rateLimit,
            ...(open ? { public: true } : {}),
          };
        });
    const outbound = fc.record({
      port: fc.constantFrom<number | string>(123, 443, "443-444"),
      protocol: fc.constantFrom("tcp", "udp"),
      destinations: sources,
    });
    return fc.record({
      ipv6: fc.constant(ipv6),
      // The deployer (the admin peer, over IPv4) must stay admitted, or nothing can verify.
      ssh: fc.record({
        own: fc.constantFrom("198.51.100.10", "198.51.100.0/24", "0.0.0.0/0"),
        more: fc.subarray(ipv6 ? [...V6, "::/0", "192.168.1.0/24"] : ["192.168.1.0/24", "203.0.113.10"]),
      }),
      services: fc
        .shuffledSubarray(SERVICE_PORTS, { maxLength: 3 })
        .chain((groups) => fc.tuple(...groups.map((g, i) => service(g, i)))),
      logging: fc.constantFrom("off", "low", "medium", "high"),
      outgoing: fc.option(
        fc.record({ allow: fc.array(outbound, { minLength: 1, maxLength: 3 }), repeat: fc.option(fc.nat()) }),
        { freq: 2 },
      ),
    });
  })
  .map(({ ipv6, ssh, services, logging, outgoing }): FirewallConfig => {
    const allow = outgoing
      ? [
          ...outgoing.allow,
          // A copy of an entry under another name: refused the same way as in `npm run plan`.
          ...(outgoing.repeat === null ? [] : [outgoing.allow[outgoing.repeat % outgoing.allow.length]!]),
        ]
      : [];
    return {
      ipv6,
      ssh: { port: 22, adminCidrs: [ssh.own, ...ssh.more] },
      services,
      logging: logging as FirewallConfig["logging"],
      ...(outgoing
        ? {
            outgoing: {
              policy: "deny" as const,
              allow: allow.map((o, i) => ({
                name: `out-${i}`,
                ...splitPorts([o.port]),
                protocol: o.protocol,
                destinations: [
                  ...o.destinations.some,
                  ...(o.destinations.world === "v4" || o.destinations.world === "both" ? ["0.0.0.0/0"] : []),
                  ...(ipv6 && (o.destinations.world === "v6" || o.destinations.world === "both")
                    ? ["::/0"]
                    : []),
                ],
              })),
            },
          }
        : {}),
    };
  });

/** Every probe, as "protocol/port direction peer: open|blocked", and what the config says. */
async function observe(sandbox: Sandbox, c: FirewallConfig): Promise<{ got: string[]; want: string[] }> {
  const truth = new Oracle(declaredEntries(c));
  const peers = [sandbox.trusted, sandbox.untrusted, sandbox.admin];
  const both = (ports: number[], protocol: "tcp" | "udp") => ports.map((port) => ({ port, protocol }));
  const inbound: Target[] = [...both(IN_TCP, "tcp"), ...both(IN_UDP, "udp")].flatMap((t) => [
    { ...t, host: sandbox.server.v4 },
    { ...t, host: sandbox.server.v6 },
  ]);
  const outbound: Target[] = peers.flatMap((p) =>
    [...both(OUT_PORTS, "tcp"), ...both(OUT_PORTS, "udp")].flatMap((t) => [
      { ...t, host: p.v4 },
      { ...t, host: p.v6 },
    ]),
  );
  const [fromServer, ...toServer] = await Promise.all([
    sandbox.probe(sandbox.server, outbound),
    ...peers.map((p) => sandbox.probe(p, inbound)),
  ]);
  const got: string[] = [];
  const want: string[] = [];
  const record = (label: string, outcome: string, admitted: boolean) => {
    got.push(`${label}: ${outcome === "open" ? "open" : "blocked"}`);
    want.push(`${label}: ${admitted ? "open" : "blocked"}`);
  };
  peers.forEach((p, n) =>
    inbound.forEach((t, i) => {
      const from = t.host === sandbox.server.v4 ? p.v4 : p.v6;
      record(
        `in ${t.protocol}/${t.port} from ${from}`,
        toServer[n]![i]!,
        truth.admits("in", t.protocol!, t.port, from),
      );
    }),
  );
  outbound.forEach((t, i) =>
    record(
      `out ${t.protocol}/${t.port} to ${t.host}`,
      fromServer![i]!,
      truth.admits("out", t.protocol!, t.port, t.host),
    ),
  );
  return { got, want };
}

/** Config of a live firewall that harden refuses to change (a reload would open the host). */
const liveDefaults = (c: FirewallConfig) => `${c.ipv6} ${c.outgoing?.policy ?? "allow"}`;

describe("the documented outgoing allow-list, applied as written", { skip }, () => {
  test("converges and verifies; https to both worlds, ntp to IPv4 only, nothing else", async () => {
    const sandbox = await newSandbox();
    await sandbox.listen(sandbox.untrusted, OUT_PORTS);
    const firewall = {
      ...HOME_FIREWALL,
      outgoing: documentedOutgoing(),
    };
    const { harden, verify } = await applyOk(
      sandbox,
      await homeSteps(sandbox, { "openclaw:firewall": firewall }),
    );
    assert.match(harden, /adding: allow out 443\/tcp comment 'openclaw:out:https'/);
    assert.match(verify, /confirmed change .* rollback disarmed/);
    // What UFW made of them, as it prints them back and as the kernel holds them.
    const added = sandbox.onServer("ufw show added");
    assert.match(added, /^ufw allow out to 0\.0\.0\.0\/1 port 123 proto udp comment 'openclaw:out:ntp'$/m);
    assert.match(added, /^ufw allow out to 128\.0\.0\.0\/1 port 123 proto udp comment 'openclaw:out:ntp'$/m);
    const v6 = sandbox.onServer("ip6tables -S ufw6-user-output");
    assert.match(v6, /^-A ufw6-user-output -p tcp -m tcp --dport 443 -j ACCEPT$/m);
    assert.doesNotMatch(v6, /--dport 123/);
    const u = sandbox.untrusted;
    const targets: Target[] = [
      { host: u.v4, port: 443 },
      { host: u.v6, port: 443 },
      { host: u.v4, port: 123, protocol: "udp" },
      { host: u.v6, port: 123, protocol: "udp" },
      { host: u.v4, port: 444 },
      { host: u.v4, port: 443, protocol: "udp" },
    ];
    const outcomes = await sandbox.probe(sandbox.server, targets);
    assert.deepEqual(
      outcomes.map((o) => (o === "open" ? "open" : "blocked")),
      ["open", "open", "open", "blocked", "blocked", "blocked"],
    );
  });
});

describe("random valid policies on one host", { skip }, () => {
  test(`each converges, verifies and admits exactly what it declares (${RUNS} policies, seed ${SEED})`, async () => {
    const sandbox = await newSandbox();
    await Promise.all(
      [sandbox.trusted, sandbox.untrusted, sandbox.admin].map((p) => sandbox.listen(p, OUT_PORTS)),
    );
    let live: string | undefined;
    let applied = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        let valid = true;
        try {
          parsePolicy(c, { key: "openclaw:firewall", hostHasPublicAddress: false });
        } catch (e) {
          // Only a repeated outgoing entry is generated invalid, and the stack refuses it before
          // any SSH connection.
          assert.ok(e instanceof PolicyError, String(e));
          assert.ok(
            e.problems.every((p) => /already allowed by allow\[/.test(p.problem)),
            e.message,
          );
          await assert.rejects(homeSteps(sandbox, { "openclaw:firewall": c }), PolicyError);
          refused++;
          valid = false;
        }
        if (!valid) return;
        // Changing IPV6 or the outgoing default on a live firewall needs a reload, which the
        // harden step refuses (it would open the host): such a policy starts from a fresh host.
        if (live !== undefined && live !== liveDefaults(c)) sandbox.resetHost();
        live = liveDefaults(c);
        const steps = await homeSteps(sandbox, { "openclaw:firewall": c });
        const results = await applySteps(sandbox, steps);
        const output = results.map((r) => `${r.stdout}${r.stderr}`).join("\n");
        assert.ok(
          results.length === steps.length && results.every((r) => r.code === 0),
          `did not converge, verify and confirm:\n${output}`,
        );
        const { got, want } = await observe(sandbox, c);
        assert.deepEqual(
          got.filter((g, i) => g !== want[i]),
          [],
          `the host differs from the policy (expected: ${JSON.stringify(want.filter((w, i) => w !== got[i]))})\n${output}`,
        );
        applied++;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    );
    assert.ok(applied >= RUNS / 2, `only ${applied} of ${RUNS} policies were applied`);
    assert.ok(refused > 0, "the generator produced no repeated outgoing entry");
  });
});
