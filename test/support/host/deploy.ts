// Runs a stack's steps on the sandbox exactly as the component sends them: the stack program
// runs under mocks, the deployer's own steps (local commands, and `command:local:run` invokes)
// run for real in the admin namespace, and each recorded remote.Command is executed over a real
// SSH connection with its own command, stdin and connection settings, its host key included,
// in the order Pulumi would run them.
import * as pulumi from "@pulumi/pulumi";
import { runStack } from "../../../components/stack/program";
import {
  deployer,
  promiseOf,
  registrations,
  reset,
  runProgram,
  unwrapSecret,
  useStackConfig,
} from "../pulumi/mocks";
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
    /** The key the step pins (`connection.hostKey`); unset, it accepts any. */
    hostKey?: string;
  };
}

/**
 * What the engine keeps of the deployer's own steps between runs (`pulumi up`s): their inputs
 * and outputs. A step runs again only when its inputs changed, as the engine decides it: new
 * `triggers` replace it (`create`), other new inputs update it (`update`, given the previous
 * stdout as PULUMI_COMMAND_STDOUT, as @pulumi/command does); unchanged, it keeps its outputs.
 */
export class DeployerState {
  private readonly saved = new Map<
    string,
    { inputs: Record<string, unknown>; outputs: Record<string, unknown> }
  >();
  /** Each run's local commands that ran, by name. */
  readonly ran: string[] = [];

  /** Forgets a step, as `pulumi up --replace` on it does: the next run creates it again. */
  replace(name: string): void {
    this.saved.delete(name);
  }

  /** Runs a local.Command's create or update in the admin namespace, or keeps its outputs. */
  async resource(
    sandbox: Sandbox,
    name: string,
    inputs: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const old = this.saved.get(name);
    const same = (key: string) => JSON.stringify(old?.inputs[key]) === JSON.stringify(inputs[key]);
    if (old && Object.keys({ ...old.inputs, ...inputs }).every(same)) return old.outputs;
    const update = old !== undefined && same("triggers");
    const command = (update ? (inputs["update"] ?? inputs["create"]) : inputs["create"]) as
      string | undefined;
    const previous: Record<string, string> =
      update && old.outputs["stdout"] ? { PULUMI_COMMAND_STDOUT: String(old.outputs["stdout"]) } : {};
    const outputs =
      command === undefined ? { stdout: "", stderr: "" } : await runLocal(sandbox, command, inputs, previous);
    this.ran.push(name);
    this.saved.set(name, { inputs, outputs });
    return outputs;
  }
}

/** Runs a local command the way @pulumi/command does, in the admin namespace: the deployer. */
async function runLocal(
  sandbox: Sandbox,
  command: string,
  inputs: Record<string, unknown>,
  extraEnvironment: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const environment = {
    ...Object.fromEntries(
      Object.entries((unwrapSecret(inputs["environment"]).value ?? {}) as Record<string, unknown>).map(
        ([k, v]) => [k, String(unwrapSecret(v).value)],
      ),
    ),
    ...extraEnvironment,
  };
  const stdin = String(unwrapSecret(inputs["stdin"]).value ?? "");
  const r = await sandbox.exec(
    sandbox.admin.ns,
    ["env", ...Object.entries(environment).map(([k, v]) => `${k}=${v}`), "sh", "-c", command],
    stdin,
  );
  // The provider's own message for a failed command, with its output.
  if (r.code !== 0)
    throw new Error(`exit status ${r.code}: running ${JSON.stringify(command)}:\n${r.stdout}${r.stderr}`);
  return { stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") };
}

/**
 * Evaluates the stack program with `stack`'s file plus `overrides` as config, running the
 * deployer's steps against the sandbox, and returns every remote command that runs something
 * (`create` set), in the order they were registered. `state` carries the deployer's steps from
 * one run to the next; a fresh one plays a first `pulumi up`. Rejects with the program's error.
 */
export async function deploySteps(
  sandbox: Sandbox,
  stack: string,
  privateKey: string,
  overrides: Record<string, unknown>,
  state: DeployerState = new DeployerState(),
): Promise<Map<string, RemoteStep>> {
  reset();
  useStackConfig(stack, privateKey, overrides);
  deployer.resource = (name, inputs) => state.resource(sandbox, name, inputs);
  deployer.invoke = async (inputs) => ({
    ...inputs,
    ...(await runLocal(sandbox, String(inputs["command"]), inputs)),
  });
  try {
    await runProgram(runStack, (server) =>
      promiseOf(pulumi.all([server.hostFirewallStatus, server.openclawVersion])),
    );
  } finally {
    delete deployer.resource;
    delete deployer.invoke;
  }
  const steps = new Map<string, RemoteStep>();
  for (const r of registrations) {
    if (r.type !== "command:remote:Command" || r.inputs["create"] === undefined) continue;
    const c = unwrapSecret(r.inputs["connection"]).value as Record<string, unknown>;
    const hostKey = unwrapSecret(c["hostKey"]).value as string | undefined;
    steps.set(r.name, {
      name: r.name,
      command: r.inputs["create"] as string,
      stdin: String(unwrapSecret(r.inputs["stdin"]).value),
      connection: {
        host: c["host"] as string,
        port: c["port"] as number,
        user: c["user"] as string,
        privateKey: unwrapSecret(c["privateKey"]).value as string,
        perDialTimeout: c["perDialTimeout"] as number,
        ...(hostKey === undefined ? {} : { hostKey }),
      },
    });
  }
  return steps;
}

/**
 * The hardening's remote commands in dependency order (harden, verify, confirm), from a run of
 * the stack program against the sandbox. Throws what the program throws.
 */
export async function remoteSteps(
  sandbox: Sandbox,
  stack: string,
  privateKey: string,
  overrides: Record<string, unknown>,
  state?: DeployerState,
): Promise<RemoteStep[]> {
  const steps = await deploySteps(sandbox, stack, privateKey, overrides, state);
  return ["openclaw-harden", "openclaw-verify", "openclaw-confirm"].map((name) => {
    const step = steps.get(name);
    if (!step) throw new Error(`the program registered no remote command ${name}`);
    return step;
  });
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

/**
 * Runs one step over SSH from the admin namespace; dials are retried until `timeoutMs`. The
 * step's own host key is the only one accepted; without one, any is, as remote.Command does.
 */
export function runStep(
  sandbox: Sandbox,
  step: RemoteStep,
  timeoutMs = 60_000,
): Promise<RunResult & { dials: number }> {
  return sandbox.ssh(step.connection, step.command, step.stdin, {
    timeoutMs,
    perDialSeconds: step.connection.perDialTimeout,
    anyHostKey: step.connection.hostKey === undefined,
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
