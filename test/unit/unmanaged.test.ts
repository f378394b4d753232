// hardening.unmanagedRules: validated with a keyed error, carried from the stack file to the
// host scripts. What it does on a host is in test/host/unmanaged.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOST_DEFAULTS, parseHardeningOptions } from "../../components/hardening/options";
import { renderConvergeScript, renderVerifyScript } from "../../components/hardening/script";
import { PolicyError } from "../../components/policy/errors";
import { parsePolicy } from "../../components/policy/parse";
import { parseStackSettings } from "../../components/stack/settings";

const STACK: Record<string, unknown> = {
  target: "existing",
  existing: { address: "192.168.1.100" },
  sshUser: "root",
  firewall: { ssh: { adminCidrs: ["198.51.100.0/24"] } },
};
const stack = (hardening: unknown) => (key: string) => (key === "hardening" ? hardening : STACK[key]);

test("unmanagedRules defaults to fail and accepts fail, remove and keep", () => {
  assert.equal(HOST_DEFAULTS.unmanagedRules, "fail");
  assert.equal(parseHardeningOptions(undefined, "k").unmanagedRules, "fail");
  for (const value of ["fail", "remove", "keep"] as const) {
    assert.equal(parseHardeningOptions({ unmanagedRules: value }, "k").unmanagedRules, value);
  }
});

test("anything else is refused, naming the key, the value and the accepted values", () => {
  for (const value of ["delete", "Remove", true, 1]) {
    assert.throws(
      () => parseHardeningOptions({ unmanagedRules: value }, "openclaw:hardening"),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.deepEqual(
          e.problems.map((p) => [p.key, p.value]),
          [["openclaw:hardening.unmanagedRules", value]],
        );
        assert.match(e.message, /Accepted: one of fail, remove, keep /);
        return true;
      },
    );
  }
});

test("the stack path reads it from openclaw:hardening and refuses a bad one with the stack key", () => {
  assert.equal(parseStackSettings(stack({ unmanagedRules: "remove" })).hardening.unmanagedRules, "remove");
  assert.equal(parseStackSettings(stack(undefined)).hardening.unmanagedRules, "fail");
  assert.throws(
    () => parseStackSettings(stack({ unmanagedRules: "purge" })),
    /openclaw:hardening\.unmanagedRules: "purge" is not recognised\. Accepted: one of fail, remove, keep/,
  );
});

test("both host scripts carry it as a global, so the rollback script the host writes has it too", () => {
  const { policy } = parsePolicy(STACK["firewall"]);
  for (const render of [renderConvergeScript, renderVerifyScript]) {
    const script = render(policy, { unmanagedRules: "remove" });
    assert.match(script, /^UNMANAGED='remove'$/m);
    assert.match(script, /^OPENCLAW_GLOBALS='[A-Z0-9_ ]*\bUNMANAGED\b[A-Z0-9_ ]*'$/m);
    assert.match(render(policy), /^UNMANAGED='fail'$/m);
  }
});
