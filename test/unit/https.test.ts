// `openclaw.https`, validated once by parseServerArgs: the block's own values (domain, email,
// ACME directory, roots, Caddy's source), what it asks of the policy (openclaw-https on 443/tcp,
// nothing else on 443 or 80, no gateway port beyond loopback), and the service it adds
// (openclaw-acme-http, 80/tcp from anywhere) to the policy every layer renders.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PolicyError } from "../../components/policy/errors";
import { type ServerSpec, componentKeys, parseServerArgs } from "../../components/serverArgs";
import { parseStackSettings } from "../../components/stack/settings";
import { parsePolicy } from "../../components/policy/parse";
import { inboundRules, type FirewallConfig, type ServiceConfig } from "../../components/policy/types";
import { withAcmeHttp } from "../../components/openclaw/httpsPolicy";
import {
  ACME_HTTP_SERVICE,
  DEFAULT_ACME_DIRECTORY,
  HTTPS_SERVICE,
  type HttpsSpec,
} from "../../components/openclaw/types";
import { problems } from "../support/problems";
import { ARMOURED_PRIVATE_KEY, ARMOURED_PUBLIC_KEY } from "../support/openclaw/openpgpKeys";
import { TEST_LEAF_PEM, TEST_ROOT_KEY, TEST_ROOT_PEM } from "../support/openclaw/acmeRoots";

const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArgsArgsArgsArgsArgsArgsArgsArgs0 a@example";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";
const OFFICE = ["198.51.100.0/24", "2001:db8:1::/48"];

const httpsService = (patch: Partial<ServiceConfig> = {}): ServiceConfig => ({
  name: HTTPS_SERVICE,
  port: 443,
  sources: OFFICE,
  ...patch,
});
const firewall = (services: ServiceConfig[] = [httpsService()], ipv6 = true): FirewallConfig => ({
  ssh: { adminCidrs: ["198.51.100.10/32"] },
  services,
  ipv6,
});
const HTTPS = { domain: "openclaw.example.com", email: "ops@example.com" };

function parse(
  https: unknown,
  fw: FirewallConfig = firewall(),
  extra: Record<string, unknown> = {},
): ServerSpec {
  return parseServerArgs(
    {
      firewall: fw,
      hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
      ssh: { user: "admin", privateKey: "k", hostKey: HOST_KEY },
      openclaw: { https, ...extra },
    },
    componentKeys("edge"),
  );
}

/** The one problem `run` finds: its key, and a message that shows the value and what is accepted. */
function oneProblem(run: () => unknown, key: string, shown: RegExp): string {
  const found = problems(run);
  assert.deepEqual(
    found.map((p) => p.key),
    [key],
    JSON.stringify(found),
  );
  const message = new PolicyError(found).message;
  assert.match(message, shown);
  assert.match(message, /Accepted: \S/);
  return message;
}

describe("a valid https block", () => {
  test("fills OpenClawSpec.https; the gateway stays on loopback; defaults: Let's Encrypt, the distribution's Caddy", () => {
    const spec = parse(HTTPS);
    assert.deepEqual(spec.openclaw!.https, {
      domain: "openclaw.example.com",
      email: "ops@example.com",
      acmeDirectory: DEFAULT_ACME_DIRECTORY,
      caddy: { kind: "distribution" },
      sources: OFFICE,
    } satisfies HttpsSpec);
    assert.equal(spec.openclaw!.bind, "loopback");
    assert.deepEqual(spec.openclaw!.exposedTo, []);
  });

  test("the policy every layer renders has openclaw-acme-http: 80/tcp from anywhere, on both families", () => {
    const spec = parse(HTTPS);
    const acme = spec.policy.services.find((s) => s.name === ACME_HTTP_SERVICE)!;
    assert.ok(acme, spec.policy.services.map((s) => s.name).join(", "));
    assert.equal(acme.protocol, "tcp");
    assert.deepEqual(acme.ports, [{ from: 80, to: 80 }]);
    assert.deepEqual(
      acme.sources.map((c) => c.text),
      ["0.0.0.0/0", "::/0"],
    );
    assert.match(acme.description, /ACME HTTP-01 challenge and redirect to HTTPS/);
    // Services stay in name order, as the parser leaves them.
    const names = spec.policy.services.map((s) => s.name);
    assert.deepEqual(names, [...names].sort());
  });

  test("without IPv6 in the policy, 80 is opened on IPv4 only", () => {
    const spec = parse(HTTPS, firewall([httpsService({ sources: ["198.51.100.0/24"] })], false));
    const acme = spec.policy.services.find((s) => s.name === ACME_HTTP_SERVICE)!;
    assert.deepEqual(
      acme.sources.map((c) => c.text),
      ["0.0.0.0/0"],
    );
  });

  test("without https the policy is the declared one, and no name is reserved", () => {
    const declared = parsePolicy(firewall([{ name: "web", port: 80, sources: OFFICE }]), {
      key: "edge.firewall",
      hostHasPublicAddress: true,
    }).policy;
    const spec = parseServerArgs(
      {
        firewall: firewall([{ name: "web", port: 80, sources: OFFICE }]),
        hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
        ssh: { privateKey: "k", hostKey: HOST_KEY },
      },
      componentKeys("edge"),
    );
    assert.deepEqual(spec.policy, declared);
    assert.equal(withAcmeHttp(declared, undefined), declared);
  });

  test("the domain is lowered and loses its trailing dot; given values are kept", () => {
    const spec = parse({
      domain: "OpenClaw.Example.COM.",
      email: "Ops.Team+acme@Example.com",
      acmeDirectory: "https://ca.internal.example:14000/dir",
      acmeRoot: `\n${TEST_ROOT_PEM}\n\n${TEST_ROOT_PEM}\n`,
      caddy: {
        aptSource:
          "deb [signed-by=/usr/share/keyrings/caddy-stable.asc] https://dl.example/caddy any-version main",
        aptKey: ARMOURED_PUBLIC_KEY,
      },
    });
    const https = spec.openclaw!.https!;
    assert.equal(https.domain, "openclaw.example.com");
    assert.equal(https.email, "Ops.Team+acme@example.com");
    assert.equal(https.acmeDirectory, "https://ca.internal.example:14000/dir");
    assert.equal(https.acmeRoot, `${TEST_ROOT_PEM}\n${TEST_ROOT_PEM}\n`);
    assert.equal(https.caddy.kind, "apt");
    assert.equal(https.caddy.kind === "apt" && https.caddy.key, `${ARMOURED_PUBLIC_KEY.trim()}\n`);
  });

  test("from a stack: the keys are the stack's, inside openclaw:openclaw", () => {
    const read = Object.assign(
      (key: string) =>
        ({
          target: "existing",
          existing: { address: "192.0.2.10" },
          sshUser: "admin",
          firewall: firewall([]),
          openclaw: { enabled: true, https: { ...HTTPS, domian: "x" } },
        })[key],
      { keys: ["target", "existing", "sshUser", "firewall", "openclaw"] },
    );
    const found = problems(() => parseStackSettings(read));
    assert.deepEqual(
      found.map((p) => p.key),
      ["openclaw:openclaw.https.domian"],
    );
    assert.match(found[0]!.problem, /did you mean domain\?/);
  });
});

describe("domain: a lower-case fully qualified name", () => {
  const key = "edge.openclaw.https.domain";
  for (const [value, shown] of [
    [undefined, /\(missing\) is required with https/],
    ["192.0.2.10", /"192\.0\.2\.10" is an IP address/],
    ["2001:db8::1", /is an IP address/],
    ["[2001:db8::1]", /is an IP address/],
    [
      "*.example.com",
      /is a wildcard: HTTP-01.*cannot prove a wildcard.*Accepted: one name, without '\*', e\.g\. openclaw\.example\.com/,
    ],
    ["localhost", /is not fully qualified/],
    ["exa_mple.com", /character other than letters, digits and '-'/],
    ["-a.example.com", /'-' at an end/],
    ["a..example.com", /an empty label/],
    [`${"a".repeat(64)}.example.com`, /longer than 63/],
    [`${"abcdefghi.".repeat(26)}com`, /more than a domain name's 253/],
    ["openclaw.123", /ends in a numeric label/],
    ["bücher.example", /is not ASCII.*Accepted: xn--bcher-kva\.example/],
    ["openclaw.example.com/path", /character other than/],
    [42, /is not a domain name/],
  ] as const) {
    test(`${JSON.stringify(value)} is refused`, () => {
      oneProblem(() => parse({ ...HTTPS, domain: value }), key, shown);
    });
  }
});

describe("email: an address", () => {
  const key = "edge.openclaw.https.email";
  for (const [value, shown] of [
    [undefined, /\(missing\) is required with https/],
    ["ops", /"ops" is not an email address/],
    ["@example.com", /is not an email address/],
    ["ops@", /the part after @ is not a domain name/],
    ["ops@192.0.2.1", /the part after @ is not a domain name/],
    ["o ps@example.com", /is not an email address/],
    ["ops@example.com\nacme_ca evil", /is not an email address/],
    ["o'ps@example.com", /is not an email address/],
    [".ops@example.com", /is not an email address/],
  ] as const) {
    test(`${JSON.stringify(value)} is refused`, () => {
      oneProblem(() => parse({ ...HTTPS, email: value }), key, shown);
    });
  }
});

describe("acmeDirectory: an https URL, without credentials", () => {
  const key = "edge.openclaw.https.acmeDirectory";
  test("plain http is refused", () => {
    oneProblem(() => parse({ ...HTTPS, acmeDirectory: "http://ca.example/dir" }), key, /is not https/);
  });
  test("text that is no URL is refused", () => {
    oneProblem(() => parse({ ...HTTPS, acmeDirectory: "letsencrypt" }), key, /is not an https URL/);
  });
  test("credentials are refused and never shown", () => {
    const message = oneProblem(
      () => parse({ ...HTTPS, acmeDirectory: "https://user:s3cr3tpw@ca.example/dir" }),
      key,
      /holds credentials/,
    );
    assert.ok(!message.includes("s3cr3tpw"));
  });
  test("a query is refused, without its value", () => {
    const message = oneProblem(
      () => parse({ ...HTTPS, acmeDirectory: "https://ca.example/dir?token=t0ken" }),
      key,
      /has a query/,
    );
    assert.ok(!message.includes("t0ken"));
  });
});

describe("acmeRoot: CA certificates as PEM, nothing else, never shown", () => {
  const key = "edge.openclaw.https.acmeRoot";
  const body = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"));
  for (const [label, value, shown] of [
    ["the root's private key", TEST_ROOT_KEY, /holds a private key/],
    ["a root followed by its private key", `${TEST_ROOT_PEM}\n${TEST_ROOT_KEY}`, /holds a private key/],
    [
      "an RSA private key header",
      "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
      /holds a private key/,
    ],
    ["an OpenPGP secret key", ARMOURED_PRIVATE_KEY, /holds a private key/],
    [
      "a server's certificate, not a CA",
      TEST_LEAF_PEM,
      /block 1 of 1 \(subject CN=leaf\.example\.com\) is not a CA certificate/,
    ],
    [
      "a public key block",
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
      /is a PUBLIC KEY block, not a CERTIFICATE/,
    ],
    [
      "a cut certificate",
      TEST_ROOT_PEM.replace(/\n[A-Za-z0-9+/]{64}\n/, "\n"),
      /block 1 of 1 is not an X\.509 certificate/,
    ],
    ["text outside the blocks", `subject=CN = Test\n${TEST_ROOT_PEM}`, /holds text outside its PEM blocks/],
    ["no block at all", "not a certificate", /holds no PEM block/],
  ] as const) {
    test(`${label} is refused`, () => {
      const message = oneProblem(() => parse({ ...HTTPS, acmeRoot: value }), key, shown);
      assert.match(message, /\(\d+ characters, not shown\)/);
      for (const line of body(value)) assert.ok(!message.includes(line), `shown: ${line}`);
    });
  }
  test("a value that is not text is refused", () => {
    oneProblem(() => parse({ ...HTTPS, acmeRoot: 7 }), key, /"\(a number\)" is not text/);
  });
});

describe("caddy: the distribution's package, or an apt source checked as Node's", () => {
  const key = "edge.openclaw.https.caddy";
  test("aptKey without aptSource is refused", () => {
    oneProblem(
      () => parse({ ...HTTPS, caddy: { aptKey: ARMOURED_PUBLIC_KEY } }),
      `${key}.aptKey`,
      /only used with aptSource/,
    );
  });
  test("a source that turns apt's checks off is refused", () => {
    oneProblem(
      () => parse({ ...HTTPS, caddy: { aptSource: "deb [trusted=yes] https://dl.example/caddy any main" } }),
      `${key}.aptSource`,
      /trusted=yes.*turns off apt's signature check/,
    );
  });
  test("a key with no signed-by to write it to names https.caddy.aptKey", () => {
    oneProblem(
      () =>
        parse({
          ...HTTPS,
          caddy: { aptSource: "deb https://dl.example/caddy any main", aptKey: ARMOURED_PUBLIC_KEY },
        }),
      `${key}.aptSource`,
      /has no signed-by= keyring to write https\.caddy\.aptKey to/,
    );
  });
  test("a secret key is refused and never shown", () => {
    const message = oneProblem(
      () =>
        parse({
          ...HTTPS,
          caddy: {
            aptSource: "deb [signed-by=/etc/apt/keyrings/caddy.asc] https://dl.example/caddy any main",
            aptKey: ARMOURED_PRIVATE_KEY,
          },
        }),
      `${key}.aptKey`,
      /is a secret \(private\) key/,
    );
    assert.ok(!message.includes(ARMOURED_PRIVATE_KEY.split("\n")[3]!));
  });
  test("an unknown key gets a did-you-mean", () => {
    oneProblem(
      () => parse({ ...HTTPS, caddy: { aptSorce: "deb x" } }),
      `${key}.aptSorce`,
      /did you mean aptSource\?/,
    );
  });
});

describe("the block's shape", () => {
  test("an unknown key gets a did-you-mean, with the keys accepted", () => {
    oneProblem(
      () => parse({ ...HTTPS, acmeDirectroy: "https://x.example/dir" }),
      "edge.openclaw.https.acmeDirectroy",
      /did you mean acmeDirectory\?.*Accepted: one of domain, email, acmeDirectory, acmeRoot, caddy/,
    );
  });
  test("a block that is not an object is refused", () => {
    oneProblem(() => parse("openclaw.example.com"), "edge.openclaw.https", /is not an object/);
  });
  test("https on a host where OpenClaw is off: a warning names it, and its keys are still checked", () => {
    const args = (https: unknown) => ({
      firewall: firewall(),
      existing: { address: "192.0.2.10" },
      ssh: { user: "admin", privateKey: "k", hostKey: HOST_KEY },
      openclaw: { https },
    });
    const spec = parseServerArgs(args(HTTPS), componentKeys("edge"));
    assert.equal(spec.openclaw, undefined);
    assert.ok(!spec.policy.services.some((s) => s.name === ACME_HTTP_SERVICE), "80 opened without a proxy");
    assert.match(
      spec.warnings.map((w) => w.message).join("\n"),
      /sets edge\.openclaw\.https, but OpenClaw is not installed/,
    );
    oneProblem(
      () => parseServerArgs(args({ ...HTTPS, x: 1 }), componentKeys("edge")),
      "edge.openclaw.https.x",
      /is not a known key/,
    );
  });
});

describe("what https asks of the policy", () => {
  test("no openclaw-https service: refused at the services, saying what to add", () => {
    oneProblem(
      () => parse(HTTPS, firewall([])),
      "edge.firewall.services",
      /has no service named openclaw-https, which says who may reach the proxy \(443\/tcp\).*Accepted: a service \{ name: openclaw-https, port: 443, protocol: tcp/,
    );
  });
  test("openclaw-https over UDP: refused at its protocol", () => {
    oneProblem(
      () => parse(HTTPS, firewall([httpsService({ protocol: "udp" })])),
      "edge.firewall.services[0].protocol",
      /"udp" is not the proxy's protocol/,
    );
  });
  test("openclaw-https on another port: refused at the field it was written in", () => {
    oneProblem(
      () => parse(HTTPS, firewall([httpsService({ port: 8443 })])),
      "edge.firewall.services[0].port",
      /"8443" is not the proxy's port/,
    );
    oneProblem(
      () =>
        parse(
          HTTPS,
          firewall([
            { name: "other", port: 22000, sources: OFFICE },
            httpsService({ port: undefined, ports: [443, 8443] }),
          ]),
        ),
      "edge.firewall.services[1].ports",
      /"443, 8443" is not the proxy's port/,
    );
  });
  test("another service on 443/tcp (the policy itself refuses two on one port): refused with the missing one", () => {
    const found = problems(() =>
      parse(HTTPS, firewall([{ name: "web", port: 443, sources: ["0.0.0.0/0"], public: true }])),
    );
    assert.deepEqual(
      found.map((p) => p.key),
      ["edge.firewall.services", "edge.firewall.services[0].port"],
    );
    assert.match(
      found[1]!.problem,
      /admits 443\/tcp, the proxy's port.*openclaw-https service's sources alone/,
    );
  });
  test("a service of the operator's on 80/tcp: refused, even from the world (Caddy holds 80)", () => {
    for (const sources of [OFFICE, ["0.0.0.0/0", "::/0"]]) {
      oneProblem(
        () =>
          parse(
            HTTPS,
            firewall([httpsService(), { name: "web", portRanges: ["80-90"], sources, public: true }]),
          ),
        "edge.firewall.services[1].portRanges",
        /"80-90" admits 80\/tcp, which Caddy holds.*HTTP-01 challenge.*Accepted: the service without port 80/,
      );
    }
    // UDP on 80 is no one's: accepted.
    assert.ok(
      parse(HTTPS, firewall([httpsService(), { name: "quic", port: 80, protocol: "udp", sources: OFFICE }]))
        .openclaw,
    );
  });
  test("a service named openclaw-acme-http: refused, the name is the derived service's", () => {
    oneProblem(
      () =>
        parse(HTTPS, firewall([httpsService(), { name: ACME_HTTP_SERVICE, port: 8080, sources: OFFICE }])),
      "edge.firewall.services[1].name",
      /is the name of the service edge\.openclaw\.https adds/,
    );
  });
  test("the openclaw-gateway service: refused by name, the gateway stays on loopback", () => {
    oneProblem(
      () =>
        parse(
          HTTPS,
          firewall([{ name: "openclaw-gateway", port: 18789, sources: ["198.51.100.0/24"] }, httpsService()]),
        ),
      "edge.firewall.services[0]",
      /"openclaw-gateway" admits the gateway's port 18789 from 198\.51\.100\.0\/24, but with edge\.openclaw\.https the gateway stays on loopback/,
    );
  });
  test("any service whose ports hold the gateway's: refused, naming its ports", () => {
    oneProblem(
      () =>
        parse(
          HTTPS,
          firewall([
            httpsService(),
            { name: "range", portRanges: ["18000-19000"], sources: ["203.0.113.0/24"] },
          ]),
          { port: 18800 },
        ),
      "edge.firewall.services[1].portRanges",
      /"18000-19000" admits the gateway's port 18800 from 203\.0\.113\.0\/24/,
    );
  });
  test("a gateway port admitted from loopback only is no exposure: accepted", () => {
    const spec = parse(
      HTTPS,
      firewall([
        { name: "openclaw-gateway", port: 18789, sources: ["127.0.0.1/32", "::1/128"] },
        httpsService(),
      ]),
    );
    assert.equal(spec.openclaw!.https!.domain, "openclaw.example.com");
  });
});

describe("port 80 open to the world while 443 is not: said in words", () => {
  const warning = (spec: ServerSpec) => spec.warnings.find((w) => w.key === "edge.firewall.services[0]");
  test("443 from some networks: a warning naming 80's purpose and the alternatives", () => {
    const w = warning(parse(HTTPS));
    assert.ok(w);
    assert.match(
      w.message,
      /admits 443 from 198\.51\.100\.0\/24, 2001:db8:1::\/48 only, but port 80 is opened to anyone/,
    );
    assert.match(w.message, /the challenge and a redirect to HTTPS only/);
    assert.match(w.message, /DNS-01/);
    assert.match(w.message, /SSH tunnel \(sshTunnelCommand\)/);
  });
  test("443 from the world on every family the policy enforces: no warning", () => {
    assert.equal(
      warning(parse(HTTPS, firewall([httpsService({ sources: ["0.0.0.0/0", "::/0"], public: true })]))),
      undefined,
    );
    assert.equal(
      warning(parse(HTTPS, firewall([httpsService({ sources: ["0.0.0.0/0"], public: true })], false))),
      undefined,
    );
    assert.ok(
      warning(parse(HTTPS, firewall([httpsService({ sources: ["0.0.0.0/0"], public: true })]))),
      "IPv6 443 restricted",
    );
  });
});

test("every admitted rule of the derived policy: the declared ones, and 80/tcp from anywhere", () => {
  const spec = parse(HTTPS);
  const rules = inboundRules(spec.policy).map(
    (r) => `${r.owner} ${r.protocol}/${r.ports.from} ${r.source.text}`,
  );
  assert.deepEqual(rules, [
    "ssh tcp/22 198.51.100.10/32",
    "openclaw-acme-http tcp/80 0.0.0.0/0",
    "openclaw-acme-http tcp/80 ::/0",
    "openclaw-https tcp/443 198.51.100.0/24",
    "openclaw-https tcp/443 2001:db8:1::/48",
  ]);
});

test("an existing host behind a router that does not forward 80 and 443: a warning naming the ports", () => {
  const spec = (forwards: number[]) =>
    parseServerArgs(
      {
        firewall: firewall([httpsService({ sources: ["0.0.0.0/0", "::/0"], public: true })]),
        existing: {
          address: "192.168.1.100",
          router: { address: "192.168.1.1", forwards, masquerade: false },
        },
        ssh: { user: "admin", privateKey: "k", hostKey: HOST_KEY },
        openclaw: { enabled: true, https: HTTPS },
      },
      componentKeys("edge"),
    ).warnings.filter((w) => w.key === "edge.existing.router.forwards");
  const [w] = spec([443]);
  assert.match(
    w!.message,
    /^does not forward 80\/tcp, which openclaw\.https needs from the internet: 80 for the CA's HTTP-01 challenge/,
  );
  assert.match(spec([8000])[0]!.message, /^does not forward 80 and 443\/tcp/);
  assert.deepEqual(spec([80, 443]), []);
});

test("the cloud quotas count the derived service: 80 is a rule like any other", () => {
  const sources = (n: number) => Array.from({ length: n }, (_, i) => `203.0.113.${i + 1}/32`);
  const aws = (n: number) => () =>
    parseServerArgs(
      {
        firewall: { ...firewall([httpsService({ sources: sources(n) })], false) },
        aws: { instanceType: "t3.small", publicKey: PUBLIC },
        ssh: { privateKey: "k", hostKey: HOST_KEY },
        openclaw: { https: HTTPS },
      },
      componentKeys("edge"),
    );
  // SSH, 58 sources on 443 and 80 from anywhere: 60 IPv4 ingress rules, AWS's limit.
  assert.ok(aws(58)().openclaw!.https);
  oneProblem(aws(59), "edge.firewall.services", /renders to 61 IPv4 ingress rules/);
});

test("openclaw-https left in the policy without https: a warning that 443 stays open with nothing of ours behind it", () => {
  const spec = parseServerArgs(
    {
      firewall: firewall([{ name: "other", port: 22000, sources: OFFICE }, httpsService()]),
      hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
      ssh: { privateKey: "k", hostKey: HOST_KEY },
    },
    componentKeys("edge"),
  );
  const w = spec.warnings.find((x) => x.key === "edge.firewall.services[1]");
  assert.match(
    w!.message,
    /^is openclaw-https, the proxy's service, but openclaw\.https is not in effect.*Remove the service to close 443/,
  );
  assert.ok(!spec.policy.services.some((s) => s.name === ACME_HTTP_SERVICE), "80 opened without https");
  assert.equal(parse(HTTPS).warnings.filter((x) => /not in effect/.test(x.message)).length, 0);
});
