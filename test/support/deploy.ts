// Runs a stack's hardening on the sandbox exactly as the component sends it: the stack program
// runs under mocks, and each recorded remote.Command is executed over a real SSH connection
// with its own command, stdin and connection settings, in the order Pulumi would run them.
import * as pulumi from "@pulumi/pulumi";
import { runStack } from "../../components/stack/program";
import { promiseOf, registrations, reset, unwrapSecret, useStackConfig } from "./mocks";
import type { RunResult, Sandbox } from "./sandbox";

export interface RemoteStep {
  /** The resource name, e.g. openclaw-harden. */
  readonly name: string;
  readonly command: string;
  readonly stdin: string;
  readonly connection: {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    perDialTimeout: number;
  };
}

/**
 * Evaluates the stack program with `stack`'s file plus `overrides` as config and returns its
 * remote commands in dependency order (harden, verify, confirm). Throws what the program throws.
 */
export async function remoteSteps(
  stack: string,
  privateKey: string,
  overrides: Record<string, unknown>,
): Promise<RemoteStep[]> {
  reset();
  useStackConfig(stack, privateKey, overrides);
  const server = runStack();
  await promiseOf(pulumi.output(server.hostFirewallStatus));
  const step = (name: string): RemoteStep => {
    const r = registrations.find((x) => x.type === "command:remote:Command" && x.name === name);
    if (!r) throw new Error(`the program registered no remote command ${name}`);
    const c = unwrapSecret(r.inputs["connection"]).value as Record<string, unknown>;
    return {
      name,
      command: r.inputs["create"] as string,
      stdin: r.inputs["stdin"] as string,
      connection: {
        host: c["host"] as string,
        port: c["port"] as number,
        user: c["user"] as string,
        privateKey: unwrapSecret(c["privateKey"]).value as string,
        perDialTimeout: c["perDialTimeout"] as number,
      },
    };
  };
  return [step("openclaw-harden"), step("openclaw-verify"), step("openclaw-confirm")];
}

/** Overrides that point the home stack at the sandbox's server and keep state in the sandbox. */
export function sandboxOverrides(
  sandbox: Sandbox,
  hardening: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    "openclaw:sshUser": "root",
    "openclaw:hardening": { stateDir: sandbox.stateDir, ...hardening },
  };
}

/** Runs one step over SSH from the admin namespace; dials are retried until `timeoutMs`. */
export function runStep(
  sandbox: Sandbox,
  step: RemoteStep,
  timeoutMs = 60_000,
): Promise<RunResult & { dials: number }> {
  return sandbox.ssh(step.connection, step.command, step.stdin, {
    timeoutMs,
    perDialSeconds: step.connection.perDialTimeout,
  });
}

/** Runs harden, verify and confirm, stopping at the first failure, as a first `pulumi up` does. */
export async function applySteps(sandbox: Sandbox, steps: RemoteStep[]): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const step of steps) {
    const result = await runStep(sandbox, step);
    results.push(result);
    if (result.code !== 0) break;
  }
  return results;
}
