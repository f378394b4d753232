// Shared by the host test files: a sandbox per test, removed after the file's tests, and the
// hardening steps of the home stack pointed at it.
import { after, afterEach, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Sandbox, probeStats } from "./sandbox";
import type { Verdict } from "./verdicts";
import { applySteps, remoteSteps, sandboxOverrides, type RemoteStep } from "./deploy";
import { inCI } from "../cannotRun";

/** The home stack's firewall as shipped; tests replace or extend parts of it. */
export const HOME_FIREWALL = {
  ssh: { adminCidrs: ["0.0.0.0/0", "::/0"] },
  services: [{ name: "openclaw-api", ports: [8000], protocol: "tcp", sources: ["192.168.1.0/24"] }],
  logging: "medium",
  ipv6: true,
};

/** A change to the home stack that admits the LAN to a second port: harmless, so the deployer keeps SSH. */
export const ONE_MORE_PORT = {
  "openclaw:firewall": {
    ...HOME_FIREWALL,
    services: [
      ...HOME_FIREWALL.services,
      { name: "openclaw-extra", ports: [9000], protocol: "tcp", sources: ["192.168.1.0/24"] },
    ],
  },
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

/**
 * After each test, how many probe rounds it ran and how many of them were void (their controls
 * did not answer, see verdicts.ts), as a diagnostic line the test runner sums up.
 */
export function reportProbeRounds(): void {
  let seen = { ...probeStats };
  afterEach((t) => {
    const rounds = probeStats.rounds - seen.rounds;
    if (rounds > 0 && "diagnostic" in t) {
      t.diagnostic(`probe rounds: ${rounds}, void: ${probeStats.voided - seen.voided}`);
    }
    seen = { ...probeStats };
  });
}

/** Returns a function that builds a fresh sandbox; all of them are destroyed after the file. */
export function sandboxPool(): () => Promise<Sandbox> {
  const made: Sandbox[] = [];
  reportProbeRounds();
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

/**
 * What the deployer's own address (the admin peer, over IPv4) sees of the server's SSH port: a
 * probe verdict, so "shut out" is never read from a login that merely timed out.
 */
export async function deployerSsh(sandbox: Sandbox): Promise<Verdict> {
  const [verdict] = await sandbox.probe(sandbox.admin, [{ host: sandbox.server.v4, port: 22 }]);
  return verdict!;
}
