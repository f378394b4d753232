// OpenClaw's steps under mocks: the resources after the hardening (types, names, parents, order,
// inputs), the outputs, and the secrets, which must reach nothing but the install step's secret
// stdin and the secret gatewayToken output.
import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  lookups,
  promiseOf,
  recordParents,
  registrations,
  reset,
  unwrapSecret,
  useStackConfig,
  type Registration,
} from "../support/pulumi/mocks";
import { OpenClawServer, type OpenClawServerArgs } from "../../components/OpenClawServer";
import { PolicyError } from "../../components/policy/errors";
import { componentKeys, parseServerArgs } from "../../components/serverArgs";
import { REMOTE_SHELL } from "../../components/hardening/script";
import {
  parseOpenClawVersion,
  composeOpenClawInstall,
  renderOpenClawInstallScript,
  renderOpenClawRemoveScript,
  renderOpenClawSecrets,
  renderOpenClawVerifyScript,
} from "../../components/openclaw/script";
import { HOST_DEFAULTS } from "../../components/hardening/options";
import type { OpenClawSpec } from "../../components/openclaw/types";
import { runStack } from "../../components/stack/program";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nOPENCLAWTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpenClawOpenClawOpenClawOpenCl0 oc@example";
const COMPONENT = "openclaw-server:index:OpenClawServer";
const COMMAND = "command:remote:Command";
const RANDOM = "random:index/randomPassword:RandomPassword";
// Distinctive, so that any copy of them anywhere is found.
const TOKEN = "TOKEN-5f0c1e7a9b2d4c6e8f0a1b3c5d7e9f01";
const ANTHROPIC = "sk-ant-ANTHROPIC-KEY-d41d8cd98f00b204";
const OPENAI = "sk-OPENAI-KEY-e3b0c44298fc1c149afb";
const SECRETS = [TOKEN, ANTHROPIC, OPENAI];

const gateway = { name: "openclaw-gateway", port: 18789, sources: ["198.51.100.0/24", "2001:db8:2000::/48"] };
const hcloud = (openclaw?: OpenClawServerArgs["openclaw"], services = [gateway]): OpenClawServerArgs => ({
  firewall: { ssh: { adminCidrs: ["198.51.100.10/32"] }, services },
  hcloud: { serverType: "cx23", location: "fsn1", publicKey: PUBLIC },
  ssh: { privateKey: KEY },
  ...(openclaw ? { openclaw } : {}),
});
const existing = (openclaw?: OpenClawServerArgs["openclaw"]): OpenClawServerArgs => ({
  firewall: { ssh: { adminCidrs: ["198.51.100.10/32"] } },
  existing: { address: "192.0.2.10" },
  ssh: { user: "admin", privateKey: KEY },
  ...(openclaw ? { openclaw } : {}),
});

const OUTPUTS = ["gatewayUrl", "sshTunnelCommand", "gatewayToken", "openclawVersion"] as const;

/** Builds the component and waits until every step has registered and every output is known. */
async function build(args: OpenClawServerArgs, name = "edge") {
  const server = new OpenClawServer(name, args, { transformations: [recordParents] });
  const outputs = (await promiseOf(
    pulumi.output({
      hostFirewallStatus: server.hostFirewallStatus,
      sshCommand: server.sshCommand,
      ...Object.fromEntries(OUTPUTS.map((o) => [o, server[o]])),
    }),
  )) as Record<string, unknown>;
  return { server, outputs };
}

const spec = (args: OpenClawServerArgs, name = "edge"): OpenClawSpec =>
  parseServerArgs(args, componentKeys(name)).openclaw!;

const find = (type: string, name: string): Registration => {
  const r = registrations.find((x) => x.type === type && x.name === name);
  assert.ok(r, `no ${type} ${name}; registered: ${registrations.map((x) => x.name).join(", ")}`);
  return r;
};
const openclawSteps = () => registrations.filter((r) => /-(openclaw.*|gateway-token)$/.test(r.name));

beforeEach(() => reset());

describe("a cloud target: OpenClaw after the hardening", () => {
  test("token, remove, install and verify: types, names, parents, order and inputs", async () => {
    lookups.openclawVersion = "2026.9.7"; // the host reports what it runs, not the pin
    const args = hcloud();
    const { outputs } = await build(args);
    const s = spec(args);
    assert.deepEqual(
      openclawSteps()
        .map((r) => `${r.type}::${r.name}`)
        .sort(),
      [
        `${COMMAND}::edge-openclaw`,
        `${COMMAND}::edge-openclaw-remove`,
        `${COMMAND}::edge-openclaw-verify`,
        `${RANDOM}::edge-gateway-token`,
      ],
    );
    for (const r of openclawSteps()) assert.equal(r.parent, `${COMPONENT}::edge`, `${r.name}'s parent`);

    const token = find(RANDOM, "edge-gateway-token");
    assert.deepEqual(token.inputs, { length: 48, special: false });

    const server = "edge-server";
    const remove = find(COMMAND, "edge-openclaw-remove");
    const install = find(COMMAND, "edge-openclaw");
    const verify = find(COMMAND, "edge-openclaw-verify");
    const triggers = find(COMMAND, "edge-harden").inputs["triggers"];

    // remove runs nothing until it is deleted; its stdin is the removal script alone.
    assert.equal(remove.inputs["create"], undefined);
    assert.equal(remove.inputs["update"], undefined);
    assert.equal(remove.inputs["delete"], REMOTE_SHELL);
    assert.equal(remove.inputs["stdin"], renderOpenClawRemoveScript(s));
    assert.deepEqual(remove.inputs["triggers"], triggers);
    assert.deepEqual(remove.options!.dependsOn, ["edge-confirm"]);
    assert.equal(remove.options!.deleteBeforeReplace, true);
    assert.equal(remove.options!.deletedWith, server);
    assert.deepEqual(remove.options!.customTimeouts, { delete: "10m" });

    assert.equal(install.inputs["create"], REMOTE_SHELL);
    assert.equal(install.inputs["update"], REMOTE_SHELL);
    assert.equal(install.inputs["delete"], undefined, "the install step's stdin holds the secrets");
    const stdin = unwrapSecret(install.inputs["stdin"]);
    assert.equal(stdin.secret, true, "the install step's stdin is a secret");
    assert.equal(
      stdin.value,
      composeOpenClawInstall(
        renderOpenClawInstallScript(s, HOST_DEFAULTS.stateDir),
        renderOpenClawSecrets({ gatewayToken: lookups.generatedToken }),
      ),
    );
    assert.deepEqual(install.inputs["triggers"], triggers);
    assert.deepEqual(install.options!.dependsOn, ["edge-confirm", "edge-openclaw-remove"]);
    assert.equal(install.options!.deletedWith, server);
    // npm installs about 650 MB: 20 minutes at least, more than the hardening's 10.
    assert.deepEqual(install.options!.customTimeouts, { create: "1200s", update: "1200s" });

    assert.equal(verify.inputs["create"], REMOTE_SHELL);
    assert.equal(verify.inputs["stdin"], renderOpenClawVerifyScript(s));
    const installStdout = "stdout of edge-openclaw\nopenclaw-version: 2026.9.7";
    assert.deepEqual(verify.inputs["triggers"], [
      ...(triggers as unknown[]),
      installStdout,
      "stdout of edge-confirm",
    ]);
    assert.deepEqual(verify.options!.dependsOn, ["edge-openclaw"]);
    assert.deepEqual(verify.options!.customTimeouts, { create: "10m", update: "10m" });

    // The policy admits the gateway's port: it is reached at the public address.
    assert.equal(s.bind, "lan");
    assert.equal(outputs["gatewayUrl"], "http://198.51.100.20:18789");
    assert.equal(outputs["sshTunnelCommand"], "ssh -N -L 18789:127.0.0.1:18789 -p 22 root@198.51.100.20");
    assert.equal(outputs["gatewayToken"], lookups.generatedToken);
    assert.equal(outputs["openclawVersion"], parseOpenClawVersion(installStdout));
    assert.equal(outputs["openclawVersion"], "2026.9.7");
  });

  test("loopback when the policy does not admit the port: the URL is the tunnel's local end", async () => {
    const { outputs } = await build(hcloud({ port: 3000 }, []));
    assert.equal(outputs["gatewayUrl"], "http://127.0.0.1:3000");
    assert.equal(outputs["sshTunnelCommand"], "ssh -N -L 3000:127.0.0.1:3000 -p 22 root@198.51.100.20");
  });

  test("removeOnDestroy: false keeps the remove step, with nothing to run", async () => {
    await build(hcloud({ removeOnDestroy: false }));
    assert.equal(find(COMMAND, "edge-openclaw-remove").inputs["delete"], undefined);
  });

  test("a longer hardening timeout is the install's too", async () => {
    await build({ ...hcloud(), hardening: { timeout: "45m" } });
    assert.deepEqual(find(COMMAND, "edge-openclaw").options!.customTimeouts, {
      create: "2700s",
      update: "2700s",
    });
    assert.deepEqual(find(COMMAND, "edge-openclaw-verify").options!.customTimeouts, {
      create: "45m",
      update: "45m",
    });
  });

  test("the install step is told the hardening's state directory, to refuse one inside OpenClaw's", async () => {
    const args: OpenClawServerArgs = { ...hcloud(), hardening: { stateDir: "/srv/oc-hardening" } };
    await build(args);
    const stdin = unwrapSecret(find(COMMAND, "edge-openclaw").inputs["stdin"]).value as string;
    assert.ok(stdin.startsWith(renderOpenClawInstallScript(spec(args), "/srv/oc-hardening")));
    assert.ok(stdin.split("\n").includes("HARDENING_STATE_DIR='/srv/oc-hardening'"));
  });

  test("enabled: false registers no OpenClaw step; the outputs are undefined", async () => {
    const { outputs } = await build(hcloud({ enabled: false }));
    assert.deepEqual(openclawSteps(), []);
    for (const o of OUTPUTS) assert.equal(outputs[o], undefined, o);
  });
});

describe("an existing host", () => {
  test("by default: nothing of OpenClaw's", async () => {
    const { outputs } = await build(existing());
    assert.deepEqual(openclawSteps(), []);
    for (const o of OUTPUTS) assert.equal(outputs[o], undefined, o);
  });
  test("enabled with a token of its own: no generated token, no removal on destroy, no VM to go with", async () => {
    const { outputs } = await build(existing({ enabled: true, gatewayToken: TOKEN }));
    assert.deepEqual(
      openclawSteps()
        .map((r) => r.name)
        .sort(),
      ["edge-openclaw", "edge-openclaw-remove", "edge-openclaw-verify"],
    );
    const remove = find(COMMAND, "edge-openclaw-remove");
    assert.equal(remove.inputs["delete"], undefined);
    assert.equal(remove.options!.deletedWith, undefined);
    assert.deepEqual(find(COMMAND, "edge-openclaw").inputs["triggers"], ["192.0.2.10:22"]);
    assert.equal(outputs["gatewayToken"], TOKEN);
    assert.equal(outputs["gatewayUrl"], "http://127.0.0.1:18789");
    assert.equal(outputs["sshTunnelCommand"], "ssh -N -L 18789:127.0.0.1:18789 -p 22 admin@192.0.2.10");
  });
});

describe("an existing host reached over IPv6", () => {
  test("the exposed gateway is IPv4 only: its URL is the tunnel's end, which works over IPv6", async () => {
    const { outputs } = await build({
      firewall: { ssh: { adminCidrs: ["2001:db8:2000::10/128"] }, services: [gateway] },
      existing: { address: "2001:db8::10" },
      ssh: { user: "admin", privateKey: KEY },
      openclaw: { enabled: true },
    });
    assert.equal(outputs["gatewayUrl"], "http://127.0.0.1:18789");
    assert.equal(outputs["sshTunnelCommand"], "ssh -N -L 18789:127.0.0.1:18789 -p 22 admin@2001:db8::10");
  });
});

describe("the secrets reach only the install step's secret stdin", () => {
  /** Everything console-bound while `run` runs: Pulumi's log messages go there under mocks. */
  async function capturingLogs<T>(run: () => Promise<T>): Promise<{ result: T; logs: string[] }> {
    const logs: string[] = [];
    const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info };
    for (const k of Object.keys(saved) as (keyof typeof saved)[])
      console[k] = (...a: unknown[]) => logs.push(a.map(String).join(" "));
    try {
      const result = await run();
      // Messages logged from inside an apply land a moment after the outputs resolve.
      await new Promise((r) => setTimeout(r, 100));
      return { result, logs };
    } finally {
      Object.assign(console, saved);
    }
  }

  function assertNowhereElse(outputs: Record<string, unknown>, logs: string[]): void {
    for (const r of registrations) {
      const inputs = structuredClone(r.inputs);
      if (r.name.endsWith("-openclaw")) {
        assert.equal(unwrapSecret(inputs["stdin"]).secret, true, "the install step's stdin is a secret");
        delete inputs["stdin"];
      }
      const text = JSON.stringify(inputs);
      for (const s of SECRETS) assert.ok(!text.includes(s), `a secret in the inputs of ${r.type} ${r.name}`);
      // OpenClaw's commands themselves are constant.
      if (r.type === COMMAND && /-openclaw/.test(r.name))
        for (const c of ["create", "update", "delete"])
          if (inputs[c] !== undefined) assert.equal(inputs[c], REMOTE_SHELL, `${r.name}.${c}`);
    }
    const { gatewayToken, ...rest } = outputs;
    assert.equal(gatewayToken, TOKEN);
    const text = JSON.stringify(rest) + logs.join("\n");
    for (const s of SECRETS) assert.ok(!text.includes(s), "a secret in an output or a log message");
    assert.ok(logs.length > 0, "the log capture saw the component's messages");
  }

  test("given as plain strings to the component", async () => {
    const args = hcloud({ gatewayToken: TOKEN, anthropicApiKey: ANTHROPIC, openaiApiKey: OPENAI });
    const { result, logs } = await capturingLogs(() => build(args));
    assert.equal(
      registrations.filter((r) => r.type === RANDOM).length,
      0,
      "no token is generated when one is given",
    );
    const install = find(COMMAND, "edge-openclaw");
    assert.equal(
      unwrapSecret(install.inputs["stdin"]).value,
      composeOpenClawInstall(
        renderOpenClawInstallScript(spec(args), HOST_DEFAULTS.stateDir),
        renderOpenClawSecrets({ gatewayToken: TOKEN, anthropicApiKey: ANTHROPIC, openaiApiKey: OPENAI }),
      ),
    );
    assert.equal(await promiseOf(pulumi.output(pulumi.isSecret(result.server.gatewayToken))), true);
    assertNowhereElse(result.outputs, logs);
  });

  test("given as stack secrets (openclaw:gatewayToken and the API keys)", async () => {
    useStackConfig("prod", KEY, {
      "openclaw:gatewayToken": TOKEN,
      "openclaw:anthropicApiKey": ANTHROPIC,
      "openclaw:openaiApiKey": OPENAI,
    });
    const { result, logs } = await capturingLogs(async () => {
      const server = runStack(undefined, { transformations: [recordParents] });
      return (await promiseOf(
        pulumi.output(
          Object.fromEntries(["hostFirewallStatus", ...OUTPUTS].map((o) => [o, server[o as "gatewayUrl"]])),
        ),
      )) as Record<string, unknown>;
    });
    assert.equal(registrations.filter((r) => r.type === RANDOM).length, 0);
    assert.equal(find(COMMAND, "openclaw-openclaw").options!.dependsOn[0], "openclaw-confirm");
    assertNowhereElse(result, logs);
  });

  test("a bad secret fails the run with its key and length, never its value", async () => {
    const short = "TOKEN-tooShort-7d2c";
    assert.throws(
      () => new OpenClawServer("edge", hcloud({ gatewayToken: short })),
      (e: unknown) =>
        e instanceof PolicyError &&
        e.problems[0]!.key === "edge.openclaw.gatewayToken" &&
        e.message.includes("19 characters") &&
        !e.message.includes(short),
    );
    // (As an Output, a stack secret, the same check runs when it resolves: test/unit/openclawArgs.)
    for (const r of registrations) assert.ok(!JSON.stringify(r.inputs).includes(short), r.name);
  });
});

describe("the same config twice", () => {
  for (const [label, openclaw] of [
    ["a given token", { gatewayToken: TOKEN, openaiApiKey: OPENAI }],
    ["a generated token", undefined],
  ] as const) {
    test(`renders the same stdin for every step (${label}): nothing runs again`, async () => {
      const stdins = async () => {
        reset();
        await build(hcloud(openclaw));
        return openclawSteps()
          .filter((r) => r.type === COMMAND)
          .map((r) => JSON.stringify([r.name, r.inputs["stdin"], r.inputs["triggers"]]))
          .sort();
      };
      const first = await stdins();
      assert.equal(first.length, 3);
      assert.deepEqual(await stdins(), first);
    });
  }
});

describe("invalid OpenClaw config fails before any child", () => {
  test("a port that differs from the policy's gateway service", () => {
    assert.throws(
      () => new OpenClawServer("edge", hcloud({ port: 18790 }), { transformations: [recordParents] }),
      (e: unknown) =>
        e instanceof PolicyError &&
        e.message.startsWith("Invalid OpenClaw configuration (1 problem):") &&
        e.message.includes("edge.openclaw.port: 18790 differs from edge.firewall.services[0].port (18789)"),
    );
    assert.deepEqual(registrations, []);
  });
});
