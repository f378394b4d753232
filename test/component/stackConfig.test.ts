// The stack program as `pulumi up` runs it, under mocks: it sees every key of the openclaw
// namespace (pulumi.Config reads one at a time), refuses the unknown ones with a did-you-mean,
// and reports invalid config as a RunError, which Pulumi prints without a stack trace.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { registrations, reset, useStackConfig } from "../support/mocks";
import { runStack, runStackProgram } from "../../components/stack/program";
import { PolicyError } from "../../components/policy/errors";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTESTKEY\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTheTest";

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
        /openclaw:sshHostKy: "sshHostKy" is not a known key; did you mean openclaw:sshHostKey\? Accepted: one of openclaw:target, openclaw:aws, .*openclaw:hardening\./,
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
