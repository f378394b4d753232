// Shared by the host test files: a sandbox per test, removed after the file's tests, and the
// hardening steps of the home stack pointed at it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Sandbox } from "./sandbox";
import { applySteps, remoteSteps, sandboxOverrides, type RemoteStep } from "./deploy";
import { inCI } from "./cannotRun";

/** The home stack's firewall as shipped; tests replace or extend parts of it. */
export const HOME_FIREWALL = {
  ssh: { adminCidrs: ["0.0.0.0/0", "::/0"] },
  services: [{ name: "openclaw-api", ports: [8000], protocol: "tcp", sources: ["192.168.1.0/24"] }],
  logging: "medium",
  ipv6: true,
};

/**
 * The `skip` option of a host suite that cannot run here (`reason` says why; undefined: it
 * can). In CI (CI=true) a suite that cannot run fails the run instead of skipping quietly.
 */
export function hostSuiteSkip(reason: string | undefined): string | undefined {
  if (reason && inCI()) {
    test(`host suite can run in CI`, () => assert.fail(`CI=true but the host suite cannot run: ${reason}`));
  }
  return reason;
}

/** Returns a function that builds a fresh sandbox; all of them are destroyed after the file. */
export function sandboxPool(): () => Promise<Sandbox> {
  const made: Sandbox[] = [];
  after(() => made.forEach((s) => s.destroy()));
  return () => {
    const sandbox = new Sandbox();
    made.push(sandbox);
    return sandbox.create();
  };
}

/** The home stack's remote steps against the sandbox, with config overrides and hardening options. */
export function homeSteps(
  sandbox: Sandbox,
  overrides: Record<string, unknown> = {},
  hardening: Record<string, unknown> = {},
): Promise<RemoteStep[]> {
  const key = fs.readFileSync(sandbox.clientKey, "utf8");
  return remoteSteps(sandbox, "home", key, { ...sandboxOverrides(sandbox, hardening), ...overrides });
}

/** Runs harden then verify and fails the test, with their output, unless both succeed. */
export async function applyOk(
  sandbox: Sandbox,
  steps: RemoteStep[],
): Promise<{ harden: string; verify: string }> {
  const results = await applySteps(sandbox, steps);
  for (const r of results) assert.equal(r.code, 0, `step failed:\n${r.stdout}\n${r.stderr}`);
  return { harden: results[0]!.stdout, verify: results[1]!.stdout };
}
