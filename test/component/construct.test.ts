// OpenClawServer as another language uses it: the Pulumi YAML program's inputs in
// docs/multi-language.md (`<!-- program: yaml-program -->`), sent
// as plain JSON through the component provider's construct(), the way `pulumi package add`
// serves it, must register exactly what the TypeScript constructor registers for the same config.
import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { registrations, reset } from "../support/pulumi/mocks";
import { OpenClawServer } from "../../components/OpenClawServer";
import { PolicyError, type PolicyProblem } from "../../components/policy/errors";
import { componentProvider } from "../../bin/schema";
import { docProgram } from "../support/markdown";
import { PRIVATE_KEY, PUBLIC_KEY, TYPE, assertConstructMatchesTypeScript } from "../support/pulumi/docServer";

const ROOT = path.join(__dirname, "..", "..");
interface YamlProgram {
  resources: Record<string, { type: string; properties: Record<string, unknown> }>;
}

/** The docs' Pulumi YAML program's OpenClawServer resource. */
function yamlProgram(): { name: string; type: string; properties: Record<string, unknown> } {
  const program = parseYaml(docProgram(ROOT, "yaml-program").text) as YamlProgram;
  const found = Object.entries(program.resources).filter(([, r]) => r.type.endsWith(":OpenClawServer"));
  assert.equal(found.length, 1, "the Pulumi YAML program has one OpenClawServer");
  const [name, r] = found[0]!;
  return { name, ...r };
}

/** What the YAML runtime sends for `${sshPublicKey}` and `${sshPrivateKey}`: the config's values. */
function interpolate(value: unknown): unknown {
  if (value === "${sshPublicKey}") return PUBLIC_KEY;
  if (value === "${sshPrivateKey}") return PRIVATE_KEY;
  if (Array.isArray(value)) return value.map(interpolate);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

const provider = componentProvider();

beforeEach(reset);

describe("construct() with the docs' Pulumi YAML inputs", () => {
  const yaml = yamlProgram();

  test("the Pulumi YAML program uses this package's type token", () => {
    assert.equal(yaml.type, TYPE);
  });

  test("registers the same resources, with the same inputs, parents and outputs, as the TypeScript constructor", async () => {
    // Plain JSON: no Outputs, no TypeScript types, nothing a YAML or Python program cannot send.
    await assertConstructMatchesTypeScript(
      yaml.name,
      JSON.parse(JSON.stringify(interpolate(yaml.properties))),
    );
  });
});

describe("construct() refuses bad inputs with the constructor's keyed errors, before any child", () => {
  const base = () => interpolate(yamlProgram().properties) as Record<string, unknown>;
  const firewall = () => base()["firewall"] as Record<string, unknown>;
  for (const [label, patch, keys] of [
    ["two targets", { existing: { address: "192.0.2.10" } }, ["edge"]],
    ["no target", { hcloud: undefined }, ["edge"]],
    [
      "a port outside 1-65535",
      { firewall: { ...firewall(), services: [{ name: "x", port: 0, sources: ["192.0.2.0/24"] }] } },
      ["edge.firewall.services[0].port"],
    ],
    [
      "an sshd setting that undoes the hardening",
      { hardening: { sshdSettings: { Match: "all" } } },
      ["edge.hardening.sshdSettings.Match"],
    ],
  ] as const) {
    test(label, async () => {
      const inputs = JSON.parse(JSON.stringify({ ...base(), ...patch })) as Record<string, unknown>;
      let direct: readonly PolicyProblem[] = [];
      assert.throws(
        () => new OpenClawServer("edge", inputs as never),
        (e: unknown) => e instanceof PolicyError && ((direct = e.problems), true),
      );
      await assert.rejects(provider.construct("edge", TYPE, inputs, {}), (e: unknown) => {
        assert.ok(e instanceof PolicyError, String(e));
        assert.deepEqual(
          e.problems.map((p) => p.key),
          keys,
        );
        assert.deepEqual(e.problems, direct);
        return true;
      });
      // The component registers itself first (super()); no child follows it.
      assert.deepEqual(
        registrations.filter((r) => r.type !== "openclaw-server:index:OpenClawServer"),
        [],
      );
    });
  }
});
