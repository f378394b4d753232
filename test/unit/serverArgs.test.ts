// The component's args and a stack's config go through the same rules; only the keys differ.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Findings, PolicyError, type PolicyProblem, problemSubject } from "../../components/policy/errors";
import { type ValueCheck, componentKeys, parseServerArgs, stackKeys } from "../../components/serverArgs";
import { parseStackSettings } from "../../components/stack/settings";
import { problems } from "../support/problems";

const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArgsArgsArgsArgsArgsArgsArgsArgs0 a@example";
const FIREWALL = { ssh: { adminCidrs: ["198.51.100.10/32"] } };

const viaComponent = (kind: string, target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  problems(() =>
    parseServerArgs(
      { firewall: FIREWALL, [kind]: target, ssh: { privateKey: "k", ...extra } },
      componentKeys("edge"),
    ),
  );
const viaStack = (kind: string, target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  problems(() =>
    parseStackSettings((key) => ({ target: kind, [kind]: target, firewall: FIREWALL, ...extra })[key]),
  );

describe("the stack and the component refuse the same target settings with the same words", () => {
  for (const [kind, target, field] of [
    ["aws", { instanceType: "T3 small", publicKey: PUBLIC }, "instanceType"],
    ["aws", { instanceType: "t3.small", publicKey: PUBLIC, rootVolumeGiB: 4 }, "rootVolumeGiB"],
    ["aws", { instanceType: "t3.small", publicKey: "ssh-ed25519 AAAA x';reboot'" }, "publicKey"],
    ["aws", { instanceType: "t3.small", publicKey: PUBLIC, subnetId: "subnet-0abc" }, "vpcId"],
    ["hcloud", { serverType: "cx23", location: "fsn1" }, "publicKey"],
    ["hcloud", { serverType: "cx23", location: "fsn1", sshKey: "a key; with spaces" }, "sshKey"],
    ["existing", { address: "192.168.1.0/24" }, "address"],
    [
      "existing",
      { address: "192.168.1.10", router: { address: "192.168.1.1", forwards: [0], masquerade: false } },
      "router.forwards[0]",
    ],
  ] as const) {
    test(`${kind}.${field}`, () => {
      const extra = kind === "existing" ? { user: "admin" } : {};
      const fromComponent = viaComponent(kind, target, extra);
      const fromStack = viaStack(kind, target, kind === "existing" ? { sshUser: "admin" } : {});
      assert.deepEqual(
        fromComponent.map((p) => p.key),
        [`edge.${kind}.${field}`],
      );
      assert.deepEqual(
        fromStack.map((p) => p.key),
        [`openclaw:${kind}.${field}`],
      );
      assert.deepEqual(
        fromComponent.map(({ key, ...rest }) => (void key, rest)),
        fromStack.map(({ key, ...rest }) => (void key, rest)),
      );
    });
  }

  test("a stack may name a Hetzner key already in the project instead of giving a public key", () => {
    const s = parseStackSettings(
      (key) =>
        ({
          target: "hcloud",
          hcloud: { serverType: "cx23", location: "fsn1", sshKey: "team-key" },
          firewall: FIREWALL,
        })[key],
    );
    assert.deepEqual(s.target, {
      kind: "hcloud",
      serverType: "cx23",
      location: "fsn1",
      image: "ubuntu-24.04",
      sshKey: "team-key",
    });
  });
});

describe("a misspelt key under ssh", () => {
  test("is refused without its value, which may be the private key", () => {
    const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU";
    const found = problems(() =>
      parseServerArgs(
        {
          firewall: FIREWALL,
          existing: { address: "192.0.2.10" },
          ssh: { user: "admin", privateKy: secret },
        },
        componentKeys("edge"),
      ),
    );
    assert.deepEqual(
      found.map((p) => p.key),
      ["edge.ssh.privateKy", "edge.ssh.privateKey"],
    );
    const message = new PolicyError(found).message;
    assert.match(message, /edge\.ssh\.privateKy: .*is not a known key/);
    assert.doesNotMatch(message, /PRIVATE KEY|b3BlbnNz/);
  });
});

describe("with stackKeys, the component's parse names the stack's keys (for issue 15's one validation)", () => {
  test("a stack config mapped to args fails with the same keys as parseStackSettings", () => {
    const config: Record<string, unknown> = {
      target: "aws",
      aws: { instanceType: "T3", publicKey: PUBLIC, rootVolumeGiB: 2 },
      sshUser: "Root",
      sshHostKey: "not-a-key",
      hardening: { timeout: "later" },
      firewall: { ssh: { port: 2200, adminCidrs: ["10.0.0.5/24"] } },
    };
    const fromStack = problems(() => parseStackSettings((key) => config[key]));
    const fromArgs = problems(() =>
      parseServerArgs(
        {
          firewall: config["firewall"],
          aws: config["aws"],
          ssh: { user: config["sshUser"], hostKey: config["sshHostKey"], privateKey: "k" },
          hardening: config["hardening"],
        },
        stackKeys("openclaw"),
      ),
    );
    const keys = (ps: PolicyProblem[]) => ps.map((p) => p.key).sort();
    assert.deepEqual(keys(fromArgs), keys(fromStack));
    assert.deepEqual(keys(fromStack), [
      "openclaw:aws.instanceType",
      "openclaw:aws.rootVolumeGiB",
      "openclaw:firewall.ssh.adminCidrs[0]",
      "openclaw:hardening.timeout",
      "openclaw:sshHostKey",
      "openclaw:sshUser",
    ]);
  });
});

describe("a value known only at deployment is checked when it resolves, with the same key", () => {
  test("an Output user that resolves to a bad name fails as edge.ssh.user", () => {
    const deferred: { key: string; check: ValueCheck }[] = [];
    const later = Promise.resolve("Bad User");
    const spec = parseServerArgs(
      {
        firewall: FIREWALL,
        hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
        ssh: { user: later, privateKey: "k" },
      },
      componentKeys("edge"),
      {
        defer: (value, key, check) => {
          deferred.push({ key, check });
          return value;
        },
      },
    );
    assert.equal(spec.ssh.user, later);
    assert.deepEqual(
      deferred.map((d) => d.key),
      ["edge.ssh.user"],
    );
    const f = new Findings();
    deferred[0]!.check(f, deferred[0]!.key, "Bad User");
    assert.deepEqual(
      f.problems.map((p) => [p.key, p.value]),
      [["edge.ssh.user", "Bad User"]],
    );
  });
});

describe("the error header says what kind of config is wrong", () => {
  for (const [key, subject] of [
    ["openclaw:firewall.ssh.port", "firewall configuration"],
    ["openclaw:existing.router.forwards[0]", "router configuration"],
    ["edge.existing.router.address", "router configuration"],
    ["openclaw:hardening.stateDir", "hardening options"],
    ["openclaw:sshUser", "SSH login configuration"],
    ["edge.ssh.hostKey", "SSH login configuration"],
    ["openclaw:aws.instanceType", "target configuration"],
    ["openclaw:target", "target configuration"],
  ] as const) {
    test(`${key}: ${subject}`, () => {
      const problem = { key, value: 1, problem: "is wrong", accepted: "right" };
      assert.equal(problemSubject([problem]), subject);
      assert.ok(new PolicyError([problem]).message.startsWith(`Invalid ${subject} (1 problem):`));
    });
  }
  test("mixed kinds: plain configuration", () => {
    const p = (key: string) => ({ key, value: 1, problem: "is wrong", accepted: "right" });
    assert.equal(
      problemSubject([p("openclaw:hardening.timeout"), p("openclaw:firewall.logging")]),
      "configuration",
    );
  });
});

describe("ssh.hostKey (openclaw:sshHostKey): a public key line the SSH steps can pin, or nothing", () => {
  const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";
  const hostKeyProblems = (hostKey: unknown) =>
    problems(() =>
      parseServerArgs(
        {
          firewall: FIREWALL,
          existing: { address: "192.0.2.10" },
          ssh: { user: "admin", privateKey: "k", hostKey },
        },
        componentKeys("edge"),
      ),
    );
  const parse = (hostKey?: unknown) =>
    parseServerArgs(
      {
        firewall: FIREWALL,
        existing: { address: "192.0.2.10" },
        ssh: { user: "admin", privateKey: "k", ...(hostKey === undefined ? {} : { hostKey }) },
      },
      componentKeys("edge"),
    );

  test("a private key pasted by mistake is refused, and not a line of it is shown", () => {
    const body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRETSECRETSECRET";
    for (const pasted of [
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEISECRETSECRETSECRET\n-----END PRIVATE KEY-----",
      "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\nAAAAISECRETSECRETSECRET",
      body,
    ]) {
      const found = hostKeyProblems(pasted);
      assert.deepEqual(
        found.map((p) => [p.key, p.value]),
        [["edge.ssh.hostKey", "(not shown)"]],
      );
      assert.match(found[0]!.problem, /private key/);
      const message = new PolicyError(found).message;
      assert.doesNotMatch(message, /SECRET|b3BlbnNz|MC4CAQ|BEGIN/, message);
      assert.match(message, /Accepted: the host's public key line/);
    }
  });

  test("an RSA key is refused with the reason: the steps would ask for SHA-1 signatures", () => {
    const found = hostKeyProblems("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@host");
    assert.deepEqual(
      found.map((p) => [p.key, p.value]),
      [["edge.ssh.hostKey", "ssh-rsa"]],
    );
    assert.match(found[0]!.problem, /SHA-1 .*OpenSSH 8\.8/);
  });

  test("an unknown type, a known_hosts line and text that is no key line are refused", () => {
    const dss = hostKeyProblems("ssh-dss AAAAB3NzaC1kc3MAAACBAP");
    assert.deepEqual(dss[0]!.value, "ssh-dss");
    assert.match(dss[0]!.problem, /not a host key type the SSH steps can pin/);
    const knownHosts = hostKeyProblems(`192.0.2.10 ${ED25519}`);
    assert.match(knownHosts[0]!.problem, /starts with a host name/);
    const garbage = hostKeyProblems("AAAA; reboot");
    assert.deepEqual(
      garbage.map((p) => [p.value, p.problem]),
      [["(not shown)", "is not a public key line"]],
    );
    // The type says ed25519; the data is an ECDSA key's.
    const mislabelled = hostKeyProblems(
      "ssh-ed25519 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBETBBCWmjoNqxMEzGgqGim7WU8ux4LX+gCICBELnHBQ1Mbno9MK6OXvas8CatGBJzBt+9HGdycfegouTkgFoB0Q=",
    );
    assert.match(mislabelled[0]!.problem, /does not decode to an ssh-ed25519 key/);
  });

  test("a key line with its comment is accepted; unset, the plan's warning says trust on first use", () => {
    assert.equal(parse(`${ED25519} root@host`).ssh.hostKey, `${ED25519} root@host`);
    assert.ok(!parse(ED25519).warnings.some((w) => w.key === "edge.ssh.hostKey"));
    const tofu = parse().warnings.filter((w) => w.key === "edge.ssh.hostKey");
    assert.equal(tofu.length, 1);
    assert.match(
      tofu[0]!.message,
      /is not set: the first contact trusts the key the host presents \(trust on first use\)/,
    );
  });
});
