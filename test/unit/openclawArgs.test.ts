// The `openclaw` block, validated once by parseServerArgs: its defaults per target, the port
// the policy and the block agree on, the bind the policy implies, and every refusal, each naming
// its key, the value (never a secret's) and what is accepted.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PolicyError, type PolicyProblem } from "../../components/policy/errors";
import { type ServerSpec, componentKeys, parseServerArgs, stackKeys } from "../../components/serverArgs";
import { mapStackConfig, parseStackSettings } from "../../components/stack/settings";
import {
  DEFAULT_NODE_DIST_URL,
  DEFAULT_NODE_VERSION,
  DEFAULT_NPM_REGISTRY,
  DEFAULT_OPENCLAW_VERSION,
  type OpenClawSpec,
} from "../../components/openclaw/types";
import type { FirewallConfig, ServiceConfig } from "../../components/policy/types";
import { renderPlan } from "../../components/plan/plan";
import { problems } from "../support/problems";
import { ARMOURED_PRIVATE_KEY, ARMOURED_PUBLIC_KEY } from "../support/openclaw/openpgpKeys";

const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArgsArgsArgsArgsArgsArgsArgsArgs0 a@example";
const SECRET = "SuperSecretTokenValue-9d1e";
const TARGETS = {
  aws: { instanceType: "t3.small", publicKey: PUBLIC },
  hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
  existing: { address: "192.0.2.10" },
} as const;

const firewall = (...services: ServiceConfig[]): FirewallConfig => ({
  ssh: { adminCidrs: ["198.51.100.10/32"] },
  services,
});
const gatewayService = (patch: Partial<ServiceConfig> = {}): ServiceConfig => ({
  name: "openclaw-gateway",
  port: 18789,
  sources: ["198.51.100.0/24", "2001:db8:1::/48"],
  ...patch,
});

/** A pinned host key, so that the warnings seen are OpenClaw's alone. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";

function parse(
  openclaw: unknown,
  fw: FirewallConfig = firewall(),
  kind: keyof typeof TARGETS = "hcloud",
): ServerSpec {
  return parseServerArgs(
    {
      firewall: fw,
      [kind]: TARGETS[kind],
      ssh: { user: "admin", privateKey: "k", hostKey: HOST_KEY },
      openclaw,
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
  );
  const message = new PolicyError(found).message;
  assert.match(message, shown);
  assert.match(message, /Accepted: \S/);
  return message;
}

const DEFAULT_SPEC: OpenClawSpec = {
  version: DEFAULT_OPENCLAW_VERSION,
  port: 18789,
  bind: "loopback",
  exposedTo: [],
  mdns: false,
  npmRegistry: DEFAULT_NPM_REGISTRY,
  node: { kind: "tarball", version: DEFAULT_NODE_VERSION, distUrl: DEFAULT_NODE_DIST_URL },
  removeOnDestroy: true,
  keepReleases: 3,
};

describe("defaults per target", () => {
  for (const kind of ["aws", "hcloud"] as const) {
    test(`${kind}: installed, on loopback at 18789, removed on destroy`, () => {
      const spec = parse(undefined, firewall(), kind);
      assert.deepEqual(spec.openclaw, DEFAULT_SPEC);
      assert.deepEqual(spec.openclawSecrets, {});
    });
  }
  test("existing: not installed unless enabled, and then kept on destroy", () => {
    const off = parse(undefined, firewall(), "existing");
    assert.equal(off.openclaw, undefined);
    assert.equal(off.openclawSecrets, undefined);
    assert.deepEqual(off.warnings, []);
    assert.deepEqual(parse({ enabled: true }, firewall(), "existing").openclaw, {
      ...DEFAULT_SPEC,
      removeOnDestroy: false,
    });
  });
  test("a cloud target with enabled: false installs nothing", () => {
    assert.equal(parse({ enabled: false, version: "2026.9.7" }).openclaw, undefined);
  });
  test("settings on an existing host without enabled: a warning that says OpenClaw stays off", () => {
    const spec = parse({ version: "2026.9.7", gatewayToken: SECRET.repeat(2) }, firewall(), "existing");
    assert.equal(spec.openclaw, undefined);
    assert.equal(spec.warnings.length, 1);
    assert.equal(spec.warnings[0]!.key, "edge.openclaw");
    assert.match(spec.warnings[0]!.message, /edge\.openclaw\.version, edge\.openclaw\.gatewayToken/);
    assert.match(spec.warnings[0]!.message, /add enabled: true/);
    assert.ok(!JSON.stringify(spec.warnings).includes(SECRET));
  });
  test("given values are kept; URLs get their trailing slash; a digest is lower-cased", () => {
    const sha = "AB".repeat(32);
    const spec = parse({
      version: "2026.10.1",
      npmRegistry: "http://127.0.0.1:4873/npm",
      node: { version: "26.1.0", distUrl: "https://mirror.example/node", sha256: sha },
      removeOnDestroy: false,
    }).openclaw!;
    assert.equal(spec.version, "2026.10.1");
    assert.equal(spec.npmRegistry, "http://127.0.0.1:4873/npm/");
    assert.deepEqual(spec.node, {
      kind: "tarball",
      version: "26.1.0",
      distUrl: "https://mirror.example/node/",
      sha256: "ab".repeat(32),
    });
    assert.equal(spec.removeOnDestroy, false);
  });
  test("an apt source makes Node come from apt", () => {
    const key = ARMOURED_PUBLIC_KEY;
    const source = "deb [signed-by=/etc/apt/keyrings/node.asc] http://127.0.0.1:8080/node_24.x nodistro main";
    assert.deepEqual(parse({ node: { aptSource: source, aptKey: key } }).openclaw!.node, {
      kind: "apt",
      version: DEFAULT_NODE_VERSION,
      source,
      key: `${key}\n`,
    });
  });
});

describe("the gateway's port and bind follow the policy", () => {
  test("the openclaw-gateway service's port is the gateway's; it binds the LAN for that service's sources", () => {
    const spec = parse(undefined, firewall(gatewayService({ port: 18790 }))).openclaw!;
    assert.equal(spec.port, 18790);
    assert.equal(spec.bind, "lan");
    assert.deepEqual(spec.exposedTo, ["198.51.100.0/24"], "IPv4 only: OpenClaw listens on 0.0.0.0");
  });
  test("the same port in the block and the policy is accepted", () => {
    assert.equal(parse({ port: 18790 }, firewall(gatewayService({ port: 18790 }))).openclaw!.port, 18790);
  });
  test("without that service: the block's port, loopback unless another TCP service covers it", () => {
    assert.deepEqual(
      [parse({ port: 3000 }).openclaw!.port, parse({ port: 3000 }).openclaw!.bind],
      [3000, "loopback"],
    );
    const web = { name: "web", portRanges: ["2990-3010"], sources: ["203.0.113.0/24"] };
    const udp = { name: "game", port: 3000, protocol: "udp", sources: ["192.0.2.0/24"] };
    const spec = parse({ port: 3000 }, firewall(web, udp)).openclaw!;
    assert.equal(spec.bind, "lan");
    assert.deepEqual(spec.exposedTo, ["203.0.113.0/24"]);
  });
  test("mDNS only when the policy admits 5353/udp", () => {
    const mdns = { name: "mdns", port: 5353, protocol: "udp", sources: ["192.168.1.0/24"] };
    assert.equal(parse(undefined, firewall(mdns)).openclaw!.mdns, true);
    assert.equal(
      parse(undefined, firewall({ ...mdns, protocol: "tcp" })).openclaw!.mdns,
      false,
      "5353/tcp is not mDNS",
    );
  });
  test("a policy exposing browser control (gateway port + 2) is warned about, naming the service", () => {
    const browser = { name: "browser", port: 18791, sources: ["198.51.100.0/24"] };
    const spec = parse(undefined, firewall(gatewayService({ sources: ["198.51.100.0/24"] }), browser));
    assert.deepEqual(
      spec.warnings.map((w) => w.key),
      ["edge.firewall.services[1]"],
    );
    assert.match(spec.warnings[0]!.message, /18791.*browser control.*loopback/);
    const v4only = gatewayService({ sources: ["198.51.100.0/24"] });
    assert.deepEqual(parse(undefined, firewall(v4only)).warnings, []);
  });
  test("an exposed gateway admitted from IPv6 is warned about: OpenClaw listens on IPv4 only", () => {
    const dual = gatewayService({ sources: ["198.51.100.0/24", "2001:db8:1::/64", "2001:db8:2::/64"] });
    const spec = parse(undefined, firewall(dual));
    assert.equal(spec.openclaw!.bind, "lan", "IPv4 clients still reach it");
    assert.deepEqual(spec.openclaw!.exposedTo, ["198.51.100.0/24"], "who reaches it: IPv4 only");
    assert.deepEqual(
      spec.warnings.map((w) => w.key),
      ["edge.firewall.services[0]"],
    );
    assert.match(
      spec.warnings[0]!.message,
      /port 18789 from IPv6 \(2001:db8:1::\/64, 2001:db8:2::\/64\).*IPv4 only \(0\.0\.0\.0\).*sshTunnelCommand/,
    );
  });
});

describe("the port: refusals", () => {
  test("a block port that differs from the policy's names both keys and both values", () => {
    const message = oneProblem(
      () =>
        parse(
          { port: 18789 },
          firewall({ name: "web", port: 443, sources: ["0.0.0.0/1"] }, gatewayService({ port: 18790 })),
        ),
      "edge.openclaw.port",
      /edge\.openclaw\.port: 18789 differs from edge\.firewall\.services\[1\]\.port \(18790\)/,
    );
    assert.match(message, /Accepted: the same port in both, or edge\.openclaw\.port left unset/);
  });
  test("in a stack, the same problem names the stack's keys", () => {
    const found = problems(() =>
      parseStackSettings(
        (key) =>
          ({
            target: "hcloud",
            hcloud: TARGETS.hcloud,
            firewall: firewall(gatewayService({ port: 18790 })),
            openclaw: { port: 18789 },
          })[key],
      ),
    );
    assert.equal(found.length, 1);
    assert.equal(found[0]!.key, "openclaw:openclaw.port");
    assert.match(found[0]!.problem, /openclaw:firewall\.services\[0\]\.port \(18790\)/);
  });
  for (const [label, service, key, shown] of [
    [
      "a range",
      gatewayService({ port: undefined, portRanges: ["18789-18790"] }),
      "portRanges",
      /"18789-18790"/,
    ],
    ["two ports", gatewayService({ port: undefined, ports: [18789, 18795] }), "ports", /"18789, 18795"/],
    ["udp", gatewayService({ protocol: "udp" }), "protocol", /"udp"/],
  ] as const) {
    test(`an openclaw-gateway service with ${label} is refused: it must be one TCP port`, () => {
      oneProblem(() => parse(undefined, firewall(service)), `edge.firewall.services[0].${key}`, shown);
    });
  }
  for (const port of [0, 65536, 1.5, "18789"]) {
    test(`port ${JSON.stringify(port)} is refused`, () => {
      oneProblem(
        () => parse({ port }),
        "edge.openclaw.port",
        /is not a port\. Accepted: a port from 1 to 65535/,
      );
    });
  }
  test("the SSH port is refused", () => {
    oneProblem(() => parse({ port: 22 }), "edge.openclaw.port", /22 is the SSH port/);
  });
});

describe("versions, sources and mirrors: refusals", () => {
  for (const version of ["latest", "^2026.9.6", "v2026.9.6", "2026.9", 2026]) {
    test(`version ${JSON.stringify(version)} is refused: an exact version only`, () => {
      oneProblem(
        () => parse({ version }),
        "edge.openclaw.version",
        /Accepted: an exact version such as 2026\.9\.6/,
      );
    });
  }
  for (const version of ["22.12.0", "24.15.9", "25.0.0", "26.0.5"]) {
    test(`node.version ${version} is refused: outside OpenClaw's engines`, () => {
      oneProblem(
        () => parse({ node: { version } }),
        "edge.openclaw.node.version",
        new RegExp(
          `"${version.replace(/\./g, "\\.")}" does not satisfy OpenClaw's engines\\. Accepted: a Node version in >=24\\.16\\.0 <25 \\|\\| >=26\\.1\\.0`,
        ),
      );
    });
  }
  for (const version of ["24.16.0", "24.22.3", "26.1.0", "27.0.0"]) {
    test(`node.version ${version} is accepted`, () => {
      assert.equal(parse({ node: { version } }).openclaw!.node.version, version);
    });
  }
  for (const [url, shown] of [
    ["ftp://mirror.example/npm/", /is not an http or https URL/],
    ["registry.example", /is not an http or https URL/],
    [
      "https://mirror.example/npm/?token=1",
      /"https:\/\/mirror\.example\/npm\/\?…" has a query or a fragment/,
    ],
    ["https://mirror example/", /is not an http or https URL/],
  ] as const) {
    test(`npmRegistry ${url} is refused`, () => {
      oneProblem(() => parse({ npmRegistry: url }), "edge.openclaw.npmRegistry", shown);
    });
  }
  test("a URL with credentials is refused without showing them", () => {
    const message = oneProblem(
      () => parse({ node: { distUrl: `https://deploy:${SECRET}@mirror.example/node/` } }),
      "edge.openclaw.node.distUrl",
      /holds credentials/,
    );
    assert.ok(!message.includes(SECRET));
  });
  test("a Node distribution over plain HTTP needs a pinned sha256; over https it does not", () => {
    oneProblem(
      () => parse({ node: { distUrl: "http://mirror.example/node/" } }),
      "edge.openclaw.node.distUrl",
      /is plain HTTP and no sha256 is pinned.*Accepted: an https:\/\/ URL, or edge\.openclaw\.node\.sha256/,
    );
    const pinned = parse({ node: { distUrl: "http://mirror.example/node/", sha256: "a".repeat(64) } });
    assert.equal(pinned.openclaw!.node.kind, "tarball");
    assert.equal(parse({ node: { distUrl: "https://mirror.example/node/" } }).openclaw!.node.kind, "tarball");
  });
  test("an npm registry over plain HTTP is warned about", () => {
    const spec = parse({ npmRegistry: "http://npm.internal.example/" });
    assert.deepEqual(
      spec.warnings.map((w) => w.key),
      ["edge.openclaw.npmRegistry"],
    );
    assert.match(spec.warnings[0]!.message, /plain HTTP.*integrity/);
    assert.deepEqual(parse({ npmRegistry: "https://npm.internal.example/" }).warnings, []);
  });
  test("a sha256 that is not 64 hex digits is refused", () => {
    oneProblem(
      () => parse({ node: { sha256: "abc" } }),
      "edge.openclaw.node.sha256",
      /"abc" is not a SHA-256 digest/,
    );
  });
  for (const [label, node, key, shown] of [
    [
      "an apt source with a tarball digest",
      { aptSource: "deb http://x/ a b", sha256: "a".repeat(64) },
      "sha256",
      /only used for the tarball source/,
    ],
    [
      "an apt source with a tarball URL",
      { aptSource: "deb http://x/ a b", distUrl: "https://x/" },
      "distUrl",
      /only used for the tarball source/,
    ],
    [
      "an apt source that is not a deb line",
      { aptSource: "deb-src http://x/ a b" },
      "aptSource",
      /is not one apt source line/,
    ],
    [
      "an apt source of two lines",
      { aptSource: "deb http://x/ a b\ndeb http://y/ a b" },
      "aptSource",
      /is not one apt source line/,
    ],
    [
      "an apt key that is not armoured",
      { aptSource: "deb [signed-by=/etc/apt/keyrings/x.gpg] http://x/ a b", aptKey: "mQINBGT" },
      "aptKey",
      /"\(7 characters\)" is not an ASCII-armoured PGP public key/,
    ],
    [
      "an apt key without a source",
      { aptKey: "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----" },
      "aptKey",
      /is only used with aptSource/,
    ],
  ] as const) {
    test(`${label} is refused`, () => {
      oneProblem(() => parse({ node }), `edge.openclaw.node.${key}`, shown);
    });
  }
});

describe("node.aptSource and node.aptKey: nothing but a keyring, nothing that weakens apt's checks", () => {
  const KEYRING = "/etc/apt/keyrings/node.asc";
  const source = (options: string) => `deb [${options}] https://deb.example/node_24.x nodistro main`;
  const apt = (aptSource: string, aptKey = ARMOURED_PUBLIC_KEY) => parse({ node: { aptSource, aptKey } });
  /** The armour of the key with its base64 body replaced by `body` (its checksum line dropped). */
  const armour = (body: string, kind = "PUBLIC KEY") =>
    `-----BEGIN PGP ${kind} BLOCK-----\n\n${body}\n-----END PGP ${kind} BLOCK-----`;
  const bodyOf = (armoured: string) =>
    armoured
      .split("\n")
      .filter((l) => l && !l.startsWith("-----") && !l.startsWith("="))
      .join("\n");

  test("a key in either keyring directory, armoured as gpg prints it, with headers or CRLF, is accepted", () => {
    const withHeaders = ARMOURED_PUBLIC_KEY.replace("\n\n", "\nComment: NodeSource\nVersion: GnuPG v2\n\n");
    for (const [options, key] of [
      [`signed-by=${KEYRING}`, ARMOURED_PUBLIC_KEY],
      ["signed-by=/usr/share/keyrings/nodesource.gpg", withHeaders.replace(/\n/g, "\r\n")],
      [`arch=amd64 signed-by=${KEYRING}`, ARMOURED_PUBLIC_KEY],
      [` signed-by=${KEYRING} `, ARMOURED_PUBLIC_KEY],
    ] as const) {
      assert.equal(apt(source(options), key).openclaw!.node.kind, "apt", options);
    }
    // Without a key, the source may rely on a keyring the host already has, or on apt's own.
    const keyless = parse({ node: { aptSource: "deb https://deb.example/node_24.x nodistro main" } });
    assert.equal(keyless.openclaw!.node.kind, "apt");
  });

  for (const [label, aptSource, shown] of [
    [
      "a signed-by path outside the keyring directories",
      source("signed-by=/root/.ssh/authorized_keys"),
      /signed-by=\/root\/\.ssh\/authorized_keys.* is not a keyring in \/etc\/apt\/keyrings\/ or \/usr\/share\/keyrings\/.*Accepted: signed-by=\/etc\/apt\/keyrings\/NAME\.gpg/,
    ],
    [
      "a signed-by path that climbs out of the keyring directory",
      source("signed-by=/etc/apt/keyrings/../../cron.d/x.gpg"),
      /signed-by=\/etc\/apt\/keyrings\/\.\.\/\.\.\/cron\.d\/x\.gpg/,
    ],
    [
      "a signed-by path in a subdirectory",
      source("signed-by=/usr/share/keyrings/sub/node.gpg"),
      /signed-by=\/usr\/share\/keyrings\/sub\/node\.gpg/,
    ],
    [
      "a keyring whose name does not end in .gpg or .asc",
      source("signed-by=/etc/apt/keyrings/node"),
      /signed-by=\/etc\/apt\/keyrings\/node, which is not a keyring/,
    ],
    [
      "two signed-by options",
      source(`signed-by=${KEYRING} signed-by=/etc/apt/keyrings/other.gpg`),
      /signed-by.* more than once/,
    ],
    [
      "trusted=yes",
      source(`trusted=yes signed-by=${KEYRING}`),
      /trusted=yes.*turns off apt's signature check/,
    ],
    [
      "allow-insecure=yes",
      source(`signed-by=${KEYRING} allow-insecure=yes`),
      /allow-insecure=yes.*turns off apt's signature check/,
    ],
    ["allow-weak=yes", source(`allow-weak=yes signed-by=${KEYRING}`), /allow-weak=yes/],
    [
      "a key with a source that has no signed-by",
      "deb https://deb.example/node_24.x nodistro main",
      /has no signed-by=.* node\.aptKey/,
    ],
  ] as const) {
    test(`${label} is refused, naming the option and what is accepted`, () => {
      oneProblem(() => apt(aptSource), "edge.openclaw.node.aptSource", shown);
    });
  }

  for (const [label, key, shown] of [
    ["an armour whose body is not base64", armour("mQINBGT"), /is not an OpenPGP public key/],
    [
      "an armour whose body is not OpenPGP",
      armour(Buffer.from("plain text, no packets").toString("base64")),
      /is not an OpenPGP public key: byte 0 does not start a packet/,
    ],
    ["an armour whose checksum does not match", ARMOURED_PUBLIC_KEY.replace("=xFo6", "=AAAA"), /checksum/],
    ["a truncated key", armour(bodyOf(ARMOURED_PUBLIC_KEY).slice(0, 60)), /is not an OpenPGP public key/],
    ["a secret key", ARMOURED_PRIVATE_KEY, /is a secret \(private\) key/],
    [
      "a secret key in a public key's armour",
      armour(bodyOf(ARMOURED_PRIVATE_KEY)),
      /is a secret \(private\) key/,
    ],
  ] as const) {
    test(`${label} is refused as the apt key, never shown`, () => {
      const message = oneProblem(
        () => apt(source(`signed-by=${KEYRING}`), key),
        "edge.openclaw.node.aptKey",
        shown,
      );
      assert.match(message, /\(\d+ characters\)/);
      for (const line of bodyOf(key).split("\n"))
        assert.ok(!message.includes(line), "the key's body in the message");
    });
  }
});

describe("keepReleases: how many releases and recovery points the host keeps", () => {
  test("3 by default; any whole number from 1 to 100", () => {
    assert.equal(parse(undefined).openclaw!.keepReleases, 3);
    for (const n of [1, 10, 100]) assert.equal(parse({ keepReleases: n }).openclaw!.keepReleases, n);
  });
  for (const bad of [0, 2.5, -1, 101, "3"]) {
    test(`${JSON.stringify(bad)} is refused`, () => {
      oneProblem(
        () => parse({ keepReleases: bad }),
        "edge.openclaw.keepReleases",
        /is not a whole number from 1 to 100.*Accepted: .*e\.g\. 3/,
      );
    });
  }
});

describe("the block's shape", () => {
  test("unknown keys are refused with the closest name, never their value", () => {
    const found = problems(() =>
      parse({ verison: "2026.9.6", gatewayTokn: SECRET, node: { distURL: "https://x/" } }),
    );
    assert.deepEqual(
      found.map((p) => p.key),
      ["edge.openclaw.verison", "edge.openclaw.gatewayTokn", "edge.openclaw.node.distURL"],
    );
    const message = new PolicyError(found).message;
    assert.match(message, /"verison" is not a known key; did you mean edge\.openclaw\.version\?/);
    assert.match(message, /"gatewayTokn" is not a known key; did you mean edge\.openclaw\.gatewayToken\?/);
    assert.match(message, /"distURL" is not a known key; did you mean distUrl\?/);
    assert.ok(message.startsWith("Invalid OpenClaw configuration (3 problems):"), message);
    assert.ok(!message.includes(SECRET));
  });
  test("a block that is not an object is refused", () => {
    oneProblem(() => parse("yes"), "edge.openclaw", /"yes" is not an object/);
  });
  for (const key of ["enabled", "removeOnDestroy"]) {
    test(`${key} must be a boolean`, () => {
      oneProblem(
        () => parse({ [key]: "yes" }),
        `edge.openclaw.${key}`,
        /"yes" is not a boolean\. Accepted: true or false/,
      );
    });
  }
});

describe("secrets: checked, never shown", () => {
  test("a given gatewayToken shorter than 32 characters is refused by its length", () => {
    const message = oneProblem(
      () => parse({ gatewayToken: SECRET }),
      "edge.openclaw.gatewayToken",
      /"\(a secret of 26 characters\)" is too short.*Accepted: at least 32 characters/,
    );
    assert.ok(!message.includes(SECRET));
  });
  test("a line break, a tab or a space at either end is refused by where it is, never shown", () => {
    const found = problems(() =>
      parse({
        gatewayToken: `${SECRET}${SECRET}\n`,
        anthropicApiKey: `sk-ant-\n${SECRET}`,
        openaiApiKey: ` ${SECRET}`,
      }),
    );
    assert.deepEqual(
      found.map((p) => [p.key, p.value, p.problem]),
      [
        [
          "edge.openclaw.gatewayToken",
          "(a secret of 53 characters)",
          "holds a control character (a line break or tab?) at position 53",
        ],
        [
          "edge.openclaw.anthropicApiKey",
          "(a secret of 34 characters)",
          "holds a control character (a line break or tab?) at position 8",
        ],
        ["edge.openclaw.openaiApiKey", "(a secret of 27 characters)", "starts or ends with a space"],
      ],
    );
    assert.ok(!JSON.stringify(found).includes(SECRET));
  });
  test("secrets that are not text are refused by their type", () => {
    const found = problems(() => parse({ gatewayToken: 12345, anthropicApiKey: true, openaiApiKey: "" }));
    assert.deepEqual(
      found.map((p) => [p.key, p.value]),
      [
        ["edge.openclaw.gatewayToken", "(a number)"],
        ["edge.openclaw.anthropicApiKey", "(a boolean)"],
        ["edge.openclaw.openaiApiKey", ""],
      ],
    );
  });
  test("valid secrets are passed on as given", () => {
    const token = `${SECRET}${SECRET}`;
    assert.deepEqual(parse({ gatewayToken: token, openaiApiKey: "sk-x" }).openclawSecrets, {
      gatewayToken: token,
      openaiApiKey: "sk-x",
    });
  });
  test("a token given as an Output is checked when it resolves, with the same rule", () => {
    const deferred: { key: string; problems: PolicyProblem[] }[] = [];
    const output = Promise.resolve("x");
    const spec = parseServerArgs(
      {
        firewall: firewall(),
        hcloud: TARGETS.hcloud,
        ssh: { privateKey: "k" },
        openclaw: { gatewayToken: output },
      },
      componentKeys("edge"),
      {
        defer: (value, key, check) => {
          const f = {
            problems: [] as PolicyProblem[],
            fail: (...a: [string, unknown, string, string]) =>
              f.problems.push({ key: a[0], value: a[1], problem: a[2], accepted: a[3] }),
          };
          check(f as never, key, "short");
          deferred.push({ key, problems: f.problems });
          return value;
        },
      },
    );
    assert.equal(spec.openclawSecrets!.gatewayToken, output);
    const token = deferred.find((d) => d.key === "edge.openclaw.gatewayToken")!;
    assert.deepEqual(
      token.problems.map((p) => p.value),
      ["(a secret of 5 characters)"],
    );
  });
  test("a stack refuses a secret written inside openclaw:openclaw, without showing it", () => {
    const read = Object.assign(
      (key: string) =>
        ({
          target: "hcloud",
          hcloud: TARGETS.hcloud,
          firewall: firewall(),
          openclaw: { anthropicApiKey: SECRET },
        })[key],
      { keys: ["target", "hcloud", "firewall", "openclaw"] },
    );
    const { problems: found, args } = mapStackConfig(read, "k");
    assert.deepEqual(
      found.map((p) => p.key),
      ["openclaw:openclaw.anthropicApiKey"],
    );
    assert.match(found[0]!.accepted, /pulumi config set --secret openclaw:anthropicApiKey/);
    assert.ok(!JSON.stringify(found).includes(SECRET));
    assert.ok(!JSON.stringify(args).includes(SECRET), "nor passed on");
  });
  test("a stack's secrets come from their own keys, and are named by them", () => {
    const read = Object.assign(
      (key: string) => ({ target: "hcloud", hcloud: TARGETS.hcloud, firewall: firewall() })[key],
      { keys: ["target", "hcloud", "firewall", "gatewayToken"] },
    );
    const mapped = mapStackConfig(read, "k", { gatewayToken: "short" });
    assert.deepEqual(mapped.problems, []);
    assert.deepEqual(
      problems(() => parseServerArgs(mapped.args, stackKeys("openclaw"))).map((p) => [p.key, p.value]),
      [["openclaw:gatewayToken", "(a secret of 5 characters)"]],
    );
  });
});

describe("npm run plan shows what OpenClaw the stack gets", () => {
  const plan = (openclaw: unknown, services: ServiceConfig[]) =>
    renderPlan(
      "t",
      parseStackSettings(
        (key) =>
          ({ target: "hcloud", hcloud: TARGETS.hcloud, firewall: firewall(...services), openclaw })[key],
      ),
    )
      .split("== OpenClaw ==\n")[1]!
      .split("\n\n")[0];
  test("exposed: the port, the bind and who may reach it", () => {
    assert.equal(
      plan({ version: "2026.10.1" }, [gatewayService()]),
      [
        "openclaw 2026.10.1 from https://registry.npmjs.org/, on Node 24.22.3 (tarball from https://nodejs.org/dist/)",
        "gateway: port 18789, bound to the LAN with token auth, reachable from 198.51.100.0/24",
        "mDNS: off; on destroy: stopped and removed",
      ].join("\n"),
    );
  });
  test("loopback, kept on destroy", () => {
    assert.match(
      plan({ removeOnDestroy: false }, []),
      /bound to loopback: reached through the SSH tunnel[\s\S]*left running$/,
    );
  });
});
