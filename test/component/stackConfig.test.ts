// The stack program as `pulumi up` runs it, under mocks: it sees every key of the openclaw
// namespace (pulumi.Config reads one at a time), refuses the unknown ones with a did-you-mean,
// and reports invalid config as a RunError, which Pulumi prints without a stack trace.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { registrations, reset, useStackConfig } from "../support/pulumi/mocks";
import { runStack, runStackProgram } from "../../components/stack/program";
import { PolicyError } from "../../components/policy/errors";
import { parseStackSettings } from "../../components/stack/settings";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA";

describe("unknown keys in the openclaw namespace", () => {
  test("misspelt keys are refused, each with the key it resembles", () => {
    reset();
    useStackConfig("home", KEY, {
      "openclaw:sshHostKy": HOST_KEY,
      "openclaw:hardenning": { rollbackAfter: 60 },
      "openclaw:colour": "blue",
      "aws:region": "eu-central-1",
    });
    assert.throws(runStack, (e: unknown) => {
      assert.ok(e instanceof PolicyError);
      assert.deepEqual(
        e.problems.map((p) => p.key),
        ["openclaw:sshHostKy", "openclaw:hardenning", "openclaw:colour"],
      );
      assert.match(
        e.message,
        /openclaw:sshHostKy: "sshHostKy" is not a known key; did you mean openclaw:sshHostKey\? Accepted: one of openclaw:target, openclaw:aws, .*openclaw:hardening, openclaw:openclaw, openclaw:gatewayToken, openclaw:anthropicApiKey, openclaw:openaiApiKey\./,
      );
      assert.match(
        e.message,
        /openclaw:hardenning: "hardenning" is not a known key; did you mean openclaw:hardening\?/,
      );
      assert.match(e.message, /openclaw:colour: "colour" is not a known key\. Accepted: one of /);
      assert.ok(
        !e.message.includes(HOST_KEY),
        "the value of an unknown key is not shown: it may be a secret",
      );
      return true;
    });
    assert.deepEqual(registrations, []);
  });

  test("the shipped stack with the key spelt right passes", () => {
    reset();
    useStackConfig("home", KEY, { "openclaw:sshHostKey": HOST_KEY });
    assert.doesNotThrow(runStack);
  });
});

describe("pulumi up's entry point", () => {
  test("invalid config is a RunError: Pulumi prints the message without a stack trace", () => {
    reset();
    useStackConfig("home", KEY, { "openclaw:sshHostKy": HOST_KEY });
    assert.throws(runStackProgram, (e: unknown) => {
      assert.ok(pulumi.RunError.isInstance(e), `not a RunError: ${String(e)}`);
      assert.match((e as Error).message, /openclaw:sshHostKy: "sshHostKy" is not a known key/);
      return true;
    });
    assert.deepEqual(registrations, []);
  });

  test("index.ts, the program pulumi up runs, uses it", async () => {
    reset();
    useStackConfig("home", KEY, { "openclaw:firewall": { ssh: { adminCidrs: [] } } });
    await assert.rejects(
      import("../../index"),
      (e: unknown) =>
        pulumi.RunError.isInstance(e) &&
        /openclaw:firewall\.ssh\.adminCidrs: \[\] must list/.test((e as Error).message),
    );
  });
});

describe("one validation: the component's, under the stack's keys", () => {
  /**
   * Runs `run` with every config value it parses wrapped so that reading `names` is counted: a
   * value checked twice (by the stack program, then by the component) is read twice as often.
   */
  function countReads(names: readonly string[], run: () => unknown): Record<string, number> {
    const counts = new Map(names.map((n) => [n, 0]));
    const wrapped = new WeakMap<object, object>();
    const wrap = (value: unknown): unknown => {
      if (typeof value !== "object" || value === null) return value;
      const known = wrapped.get(value);
      if (known) return known;
      const proxy = new Proxy(value, {
        get(target, property, receiver) {
          if (typeof property === "string" && counts.has(property))
            counts.set(property, counts.get(property)! + 1);
          return wrap(Reflect.get(target, property, receiver));
        },
      });
      wrapped.set(value, proxy);
      return proxy;
    };
    const parse = JSON.parse;
    JSON.parse = (text: string, reviver?: Parameters<typeof JSON.parse>[1]) => wrap(parse(text, reviver));
    try {
      run();
    } finally {
      JSON.parse = parse;
    }
    return Object.fromEntries(counts);
  }

  /** The stack's config as `npm run plan` reads it, parsed when read. */
  const planReader = () => {
    const config = pulumi.runtime.allConfig();
    const keys = Object.keys(config)
      .filter((k) => k.startsWith("openclaw:"))
      .map((k) => k.slice("openclaw:".length));
    return Object.assign(
      (key: string) => {
        const v = config[`openclaw:${key}`];
        if (v === undefined) return undefined;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      },
      { keys },
    );
  };

  test("host options, the router and the firewall are each validated once", () => {
    reset();
    useStackConfig("home", KEY, { "openclaw:hardening": { rollbackAfter: 60, perDialTimeout: 10 } });
    // perDialTimeout: the hardening options; masquerade: the router; logging: the firewall.
    const names = ["perDialTimeout", "masquerade", "logging"];
    const once = countReads(names, () => parseStackSettings(planReader()));
    assert.ok(
      Object.values(once).every((n) => n > 0),
      JSON.stringify(once),
    );
    assert.deepEqual(
      countReads(names, () => runStack()),
      once,
    );
  });

  test("npm run plan and pulumi up refuse the same input with the same problems", () => {
    const base = {
      "openclaw:hardening": { rollbackAfter: 5, sshd: { settings: { Match: "all" } } },
      "openclaw:existing": {
        address: "192.168.1.100",
        router: { address: "192.168.1.1", forwards: ["x"], masquerade: "no" },
      },
      "openclaw:sshHostKey": "not a key",
      "openclaw:sshUsr": "admin",
    };
    for (const overrides of [
      base,
      { "openclaw:target": "gcp", "openclaw:colour": "blue" },
      { "openclaw:target": "aws" },
      {
        "openclaw:target": "hcloud",
        "openclaw:hcloud": { kind: "hcloud", serverType: "cx23", location: "fsn1" },
      },
    ]) {
      reset();
      useStackConfig("home", KEY, overrides);
      let fromPlan: unknown;
      try {
        parseStackSettings(planReader());
      } catch (e) {
        assert.ok(e instanceof PolicyError);
        fromPlan = e.problems;
      }
      assert.ok(fromPlan, `npm run plan accepted ${JSON.stringify(overrides)}`);
      assert.throws(runStack, (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.deepEqual(e.problems, fromPlan);
        return true;
      });
    }
  });
});
