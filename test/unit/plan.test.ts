import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { PolicyError } from "../../components/policy/errors";
import { renderPlan } from "../../components/plan/plan";
import { parseStackSettings } from "../../components/stack/settings";
import { readStackFile } from "../../components/stack/stackFile";
import { docProgram } from "../support/markdown";
import { TEST_ROOT_PEM } from "../support/openclaw/acmeRoots";

const ROOT = path.join(__dirname, "..", "..");
const SHIPPED = path.join(ROOT, "stacks");

/**
 * The stack files the CLI tests read, fixed here rather than taken from stacks/ (which changes
 * as the shipped examples do): the seed's home server, and broken variants of it.
 */
const HOME = `config:
  openclaw:target: existing
  openclaw:existing:
    address: 192.168.1.100
    sshPort: 22
  openclaw:sshUser: admin
  openclaw:firewall:
    ssh:
      port: 22
      adminCidrs: [0.0.0.0/0, "::/0"]
    services:
      - name: openclaw-api
        port: 8000
        protocol: tcp
        sources: [192.168.1.0/24]
    logging: medium
    ipv6: true
`;
const FIXTURES: Record<string, string> = {
  home: HOME,
  // A flow sequence left open on line 15: the parser notices at line 16, column 5.
  unclosed: HOME.replace("sources: [192.168.1.0/24]", "sources: [192.168.1.0/24"),
  // A tab used as indentation on line 4, column 1.
  tab: HOME.replace("  openclaw:existing:\n    address", "  openclaw:existing:\n\taddress"),
  pinned: `${HOME}  openclaw:sshHostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA root@home\n`,
  typos: `${HOME}  openclaw:sshHostKy: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey\n  openclaw:hardenning:\n    rollbackAfter: 60\n`,
};
let stacks: string;
before(() => {
  stacks = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-stacks-"));
  for (const [name, text] of Object.entries(FIXTURES))
    fs.writeFileSync(path.join(stacks, `Pulumi.${name}.yaml`), text);
});
after(() => fs.rmSync(stacks, { recursive: true, force: true }));

/** Runs one of the CLIs as `npm run` would, reading stack files from `dir`. */
function cli(bin: "plan" | "blocks", dir: string, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "bin", `${bin}.ts`), ...args], {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...process.env, OPENCLAW_STACKS_DIR: dir },
  });
}
const plan = (...args: string[]) => cli("plan", stacks, ...args);

/** A JavaScript stack trace, or the name of the YAML library's exception, in the output. */
const STACK_TRACE = /^\s+at .*[(:]\d+|YAMLParseError|node:internal/m;

describe("npm run plan", () => {
  test("--stack home prints the seed's rules, the cloud rules and the SSH warning", () => {
    const r = plan("--stack", "home");
    assert.equal(r.status, 0, r.stderr);
    for (const line of [
      "Stack home: existing host 192.168.1.100 (SSH port 22); no cloud firewall: UFW on the host is the only layer",
      "openclaw-api  tcp    8000  IPv4    192.168.1.0/24      -",
      "ufw allow 22/tcp comment 'openclaw:ssh'",
      "ufw allow from 192.168.1.0/24 to any port 8000 proto tcp comment 'openclaw:openclaw-api'",
      "defaults: deny incoming, allow outgoing; logging medium; IPV6=yes",
      "ingress  tcp    8000   192.168.1.0/24  in-tcp-8000-8000-192.168.1.0_24",
      "in   tcp    8000  192.168.1.0/24",
      "- openclaw:firewall.ssh.adminCidrs: SSH is open to the whole internet",
      "== OpenClaw ==\n(not installed: openclaw:openclaw.enabled is false, the default on an existing host)",
    ]) {
      assert.ok(r.stdout.includes(line), `missing: ${line}\n${r.stdout}`);
    }
  });
  test("without openclaw:sshHostKey, the plan says the host key is trusted on first use, and what that risks", () => {
    const r = plan("--stack", "home");
    assert.equal(r.status, 0, r.stderr);
    const section = /== SSH host key ==\n([\s\S]*?)\n\n==/.exec(r.stdout)?.[1] ?? "";
    assert.match(section, /^trust on first use: openclaw:sshHostKey is not set\./);
    assert.match(
      section,
      /the first pulumi up takes the key the host presents \(openclaw-host-key, kept in the stack's state/,
    );
    assert.match(
      section,
      /a machine posing as the host at that first contact is trusted, and gets the secrets/,
    );
    assert.match(
      r.stdout,
      /^- openclaw:sshHostKey: is not set: the first contact trusts the key the host presents/m,
    );
  });
  test("with openclaw:sshHostKey, the plan names the pinned key by its fingerprint", () => {
    const r = plan("--stack", "pinned");
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /== SSH host key ==\npinned in openclaw:sshHostKey: ssh-ed25519 SHA256:3n8ttzqHrVECTLB8\+1SbnQ9YKlqzmFN\/dz9gsW0FkNQ\./,
    );
    assert.doesNotMatch(r.stdout, /trust on first use|- openclaw:sshHostKey/);
  });
  test("every shipped stack plans cleanly", () => {
    for (const file of fs.readdirSync(SHIPPED)) {
      const stack = /^Pulumi\.(.+)\.yaml$/.exec(file)![1]!;
      const r = cli("plan", SHIPPED, "--stack", stack);
      assert.equal(r.status, 0, `${stack}: ${r.stderr}`);
    }
  });
  test("the README's Hetzner stack plans cleanly: SSH from one address, the gateway on loopback", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-plan-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.mine.yaml"), docProgram(ROOT, "hetzner-stack").text);
      const r = cli("plan", dir, "--stack", "mine");
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Stack mine: Hetzner Cloud cx23 in fsn1/m);
      // No service: the only rule admits SSH from the deployer's address.
      assert.deepEqual(
        r.stdout.split("\n").filter((l) => l.startsWith("ufw allow")),
        ["ufw allow from 198.51.100.10 to any port 22 proto tcp comment 'openclaw:ssh'"],
      );
      assert.match(r.stdout, /^gateway: port 18789, bound to loopback: reached through the SSH tunnel/m);
      // The README says the plan warns that the host key is trusted at first contact.
      assert.match(r.stdout, /^- openclaw:sshHostKey: is not set: the first contact trusts the key/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("the README's HTTPS step on its Hetzner stack plans: 443 from the service, 80 from anyone, the proxy", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-plan-"));
    try {
      // The step's keys replace or join the stack's own under config:, as the README tells.
      const stack = YAML.parse(docProgram(ROOT, "hetzner-stack").text) as { config: object };
      const https = YAML.parse(docProgram(ROOT, "hetzner-https").text) as object;
      fs.writeFileSync(
        path.join(dir, "Pulumi.mine.yaml"),
        YAML.stringify({ config: { ...stack.config, ...https } }),
      );
      const r = cli("plan", dir, "--stack", "mine");
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout.split("\n").filter((l) => l.startsWith("ufw allow")),
        [
          "ufw allow from 198.51.100.10 to any port 22 proto tcp comment 'openclaw:ssh'",
          "ufw allow 80/tcp comment 'openclaw:openclaw-acme-http'",
          "ufw allow from 203.0.113.0/24 to any port 443 proto tcp comment 'openclaw:openclaw-https'",
        ],
      );
      assert.match(
        r.stdout,
        /^domain: gateway\.example\.com; gatewayUrl https:\/\/gateway\.example\.com\/$/m,
      );
      // The README's DNS step says the plan lists the records.
      assert.match(r.stdout, /^ {2}A gateway\.example\.com -> the server's public IPv4/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("bad config exits 1 and prints every problem with its key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-plan-"));
    try {
      fs.writeFileSync(
        path.join(dir, "Pulumi.bad.yaml"),
        "config:\n  openclaw:target: existing\n  openclaw:existing: { address: 192.168.1.100 }\n  openclaw:sshUser: admin\n" +
          "  openclaw:firewall:\n    ssh: { adminCidrs: [] }\n    services: [{ name: api, port: 8000, sources: ['10.0.0.5/24'] }]\n",
      );
      assert.throws(
        () => parseStackSettings(readStackFile(dir, "bad")),
        (e: unknown) => {
          assert.ok(e instanceof PolicyError);
          assert.deepEqual(
            e.problems.map((p) => p.key),
            ["openclaw:firewall.ssh.adminCidrs", "openclaw:firewall.services[0].sources[0]"],
          );
          return true;
        },
      );
      const r = cli("plan", dir, "--stack", "bad");
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^Invalid firewall configuration \(2 problems\):\n {2}- openclaw:firewall\.ssh\.adminCidrs: \[\]/,
      );
      assert.doesNotMatch(r.stderr, STACK_TRACE);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("the CLI exits 1 on invalid config and 2 on bad usage", () => {
    const missing = plan("--stack", "no-such-stack");
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr,
      /No stack file .*Pulumi\.no-such-stack\.yaml\. Accepted stacks: home, pinned, tab, typos, unclosed\./,
    );
    assert.equal(plan().status, 2);
    assert.equal(plan("--stak", "home").status, 2);
  });
  test("unknown keys in the openclaw namespace exit 1, each with a did-you-mean", () => {
    const r = plan("--stack", "typos");
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /- openclaw:sshHostKy: "sshHostKy" is not a known key; did you mean openclaw:sshHostKey\? Accepted: one of openclaw:target, /,
    );
    assert.match(
      r.stderr,
      /- openclaw:hardenning: "hardenning" is not a known key; did you mean openclaw:hardening\?/,
    );
    assert.equal(r.stdout, "");
  });
});

describe("a YAML syntax error in a stack file", () => {
  const cases = [
    ["unclosed", 16, 5, "Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ["tab", 4, 1, "Tabs are not allowed as indentation"],
  ] as const;
  for (const bin of ["plan", "blocks"] as const) {
    for (const [stack, line, column, what] of cases) {
      test(`npm run ${bin} (${stack}): one error with the file, line and column, no stack trace`, () => {
        const r = cli(bin, stacks, "--stack", stack);
        assert.equal(r.status, 1, r.stderr);
        const file = path.join(stacks, `Pulumi.${stack}.yaml`);
        assert.ok(
          r.stderr.startsWith(`Invalid YAML in ${file} at line ${line}, column ${column}: ${what}.\n`),
          r.stderr,
        );
        assert.doesNotMatch(r.stderr, STACK_TRACE);
        assert.equal(r.stdout, "");
      });
    }
  }
});

describe("stack settings", () => {
  const reader = (values: Record<string, unknown>) => (key: string) => values[key];
  const firewall = { ssh: { adminCidrs: ["203.0.113.50"] } };
  const problems = (values: Record<string, unknown>) => {
    try {
      parseStackSettings(reader(values));
    } catch (e) {
      assert.ok(e instanceof PolicyError);
      return e.problems.map((p) => `${p.key} ${p.problem}`);
    }
    return [];
  };
  test("the plan names our chains beside UFW's rules: containers and sshd's replies under the allow-list", () => {
    const plan = (extra: Record<string, unknown>) =>
      renderPlan(
        "t",
        parseStackSettings(
          reader({
            target: "existing",
            existing: { address: "192.168.1.100" },
            sshUser: "admin",
            firewall: { ...firewall, ipv6: false, outgoing: { policy: "deny", allow: [] } },
            ...extra,
          }),
        ),
      );
    assert.ok(
      plan({}).includes(
        "chain openclaw-docker-user (from Docker's DOCKER-USER): published ports as admitted above; " +
          "containers' new connections by the outgoing allow-list; all forwarded IPv6 dropped\n" +
          "chain openclaw-ssh-replies (from UFW's after-output): sshd's packets out without SYN, from port 22\n",
      ),
      plan({}),
    );
    assert.doesNotMatch(plan({ hardening: { docker: false } }), /openclaw-docker-user/);
  });
  test("unknown target", () =>
    assert.deepEqual(problems({ target: "gcp" }), ["openclaw:target is not a known target"]));
  test("existing host: address must be a host, default SSH port 22, user required", () => {
    assert.deepEqual(problems({ target: "existing", existing: { address: "192.168.1.0/24" }, firewall }), [
      "openclaw:existing.address is not a host address",
      "openclaw:sshUser is required for an existing host (there is no image default)",
    ]);
    const s = parseStackSettings(
      reader({ target: "existing", existing: { address: "192.168.1.100" }, sshUser: "admin", firewall }),
    );
    assert.deepEqual(s.target, { kind: "existing", address: "192.168.1.100", sshPort: 22 });
  });
  test("cloud targets: sshd stays on 22, quotas apply, user defaults per provider", () => {
    const hcloud = {
      serverType: "cx23",
      location: "fsn1",
      publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey",
    };
    assert.deepEqual(
      problems({ target: "hcloud", hcloud, firewall: { ssh: { port: 2222, adminCidrs: ["192.0.2.1"] } } }),
      ["openclaw:firewall.ssh.port is not the port a new hcloud VM's sshd listens on"],
    );
    const s = parseStackSettings(reader({ target: "hcloud", hcloud, firewall }));
    assert.equal(s.sshUser, "root");
    assert.equal(s.target.kind === "hcloud" && s.target.image, "ubuntu-24.04");
  });
  test("aws: subnet needs its VPC, bad ids are named", () => {
    const aws = {
      instanceType: "t3.small",
      publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey",
      subnetId: "subnet-0abc",
    };
    assert.deepEqual(problems({ target: "aws", aws, firewall }), [
      "openclaw:aws.vpcId is required with subnetId (the security group must be in the subnet's VPC)",
    ]);
    assert.deepEqual(
      problems({ target: "aws", aws: { ...aws, vpcId: "vpc-0abc", ami: "ubuntu" }, firewall }),
      ["openclaw:aws.ami is not valid"],
    );
  });
  test("a public key with shell characters is refused", () => {
    const hcloud = { serverType: "cx23", location: "fsn1", publicKey: "ssh-ed25519 AAAA x';reboot'" };
    assert.deepEqual(problems({ target: "hcloud", hcloud, firewall }), [
      "openclaw:hcloud.publicKey is not valid",
    ]);
  });
});

describe("the plan with openclaw.https", () => {
  const HTTPS_FIREWALL = {
    ssh: { adminCidrs: ["203.0.113.50"] },
    services: [{ name: "openclaw-https", port: 443, sources: ["198.51.100.0/24"] }],
  };
  const planOf = (values: Record<string, unknown>) =>
    renderPlan(
      "t",
      parseStackSettings((key: string) => values[key]),
    );
  const existing = (
    address: string,
    https: Record<string, unknown> = {},
    firewall: object = HTTPS_FIREWALL,
  ) =>
    planOf({
      target: "existing",
      existing: { address },
      sshUser: "admin",
      firewall,
      openclaw: { enabled: true, https: { domain: "gw.example.net", email: "ops@example.net", ...https } },
    });

  test("--stack dev shows the proxy, the domain, the CA, the DNS records and port 80's purpose in words", () => {
    const r = cli("plan", SHIPPED, "--stack", "dev");
    assert.equal(r.status, 0, r.stderr);
    for (const line of [
      "openclaw-acme-http  tcp    80    IPv4    0.0.0.0/0 (anyone)  -",
      "openclaw-acme-http  tcp    80    IPv6    ::/0 (anyone)       -",
      "openclaw-acme-http: port 80 serves ACME's HTTP-01 challenge, from anyone (the CA's validators), and a redirect to HTTPS",
      "ingress  tcp    80     0.0.0.0/0           in-tcp-80-80-0.0.0.0_0",
      "ufw allow 80/tcp comment 'openclaw:openclaw-acme-http'",
      "proxy: Caddy from the distribution's packages, on 443/tcp (TLS) and 80/tcp, in front of the gateway at 127.0.0.1:18789",
      "domain: openclaw.dev.example.com; gatewayUrl https://openclaw.dev.example.com/",
      "CA: ACME directory https://acme-v02.api.letsencrypt.org/directory (Let's Encrypt), HTTP-01 challenge",
      "  A openclaw.dev.example.com -> the server's public IPv4, known once it is created: the output publicIpv4",
      "  AAAA openclaw.dev.example.com -> its public IPv6, when it has one: the output publicIpv6",
    ]) {
      assert.ok(r.stdout.includes(line), `missing: ${line}\n${r.stdout}`);
    }
    // The gateway's own port is admitted by no layer.
    assert.doesNotMatch(r.stdout, /18789 +\S*\/\d|port 18789 proto/);
    // 443 is the office's, 80 the world's: the warning says so, and names the alternatives.
    assert.match(
      r.stdout,
      /^- openclaw:firewall\.services\[0\]: admits 443 from .* only, but port 80 is opened to anyone .*challenge and a redirect to HTTPS only.*DNS-01.*SSH tunnel/m,
    );
  });

  test("an existing host with a public address: its A record, and the roots and Caddy's source named", () => {
    const out = existing("192.0.2.10", {
      acmeDirectory: "https://ca.example.net/dir",
      acmeRoot: TEST_ROOT_PEM,
      caddy: {
        aptSource: "deb [signed-by=/usr/share/keyrings/caddy.asc] https://dl.example.net/caddy any main",
      },
    });
    assert.match(out, /^ {2}A gw\.example\.net -> 192\.0\.2\.10$/m);
    assert.match(
      out,
      /^CA: ACME directory https:\/\/ca\.example\.net\/dir, HTTP-01 challenge, account ops@example\.net; trusted roots: 1 certificate from openclaw\.https\.acmeRoot$/m,
    );
    assert.match(
      out,
      /^proxy: Caddy from apt \(deb \[signed-by=\/usr\/share\/keyrings\/caddy\.asc\] https:\/\/dl\.example\.net\/caddy any main\)/m,
    );
  });

  test("an existing host behind NAT: the record is the router's public address, which must forward 80 and 443", () => {
    assert.match(
      existing("192.168.1.100"),
      /^ {2}A gw\.example\.net -> the public address of the router in front of 192\.168\.1\.100 \(a private address\), which must forward 80 and 443\/tcp to it$/m,
    );
    assert.match(existing("2001:db8::10"), /^ {2}AAAA gw\.example\.net -> 2001:db8::10$/m);
  });

  test("443 open to the world: no warning about 80; without IPv6, no AAAA record", () => {
    const out = planOf({
      target: "hcloud",
      hcloud: {
        serverType: "cx23",
        location: "fsn1",
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArgsArgsArgsArgsArgsArgsArgsArgs0 a@example",
      },
      firewall: {
        ...HTTPS_FIREWALL,
        ipv6: false,
        services: [{ name: "openclaw-https", port: 443, sources: ["0.0.0.0/0"], public: true }],
      },
      openclaw: { https: { domain: "gw.example.net", email: "ops@example.net" } },
    });
    assert.doesNotMatch(out, /port 80 is opened to anyone/);
    assert.match(out, /^ {2}A gw\.example\.net -> the server's public IPv4/m);
    assert.doesNotMatch(out, /AAAA/);
    assert.match(out, /openclaw-acme-http +tcp +80 +IPv4 +0\.0\.0\.0\/0 \(anyone\)/);
  });
});
