import * as pulumi from "@pulumi/pulumi";
import { OpenClawServer } from "../OpenClawServer";
import type { HardeningOptions } from "../host/options";
import { PolicyError } from "../policy/errors";
import { NAMESPACE, type TargetSettings, parseStackSettings } from "./settings";

/**
 * The stack program: read the stack's config, validate all of it, then build the server.
 * Invalid config throws here, before any resource is registered.
 */
export function runStack(
  config: pulumi.Config = new pulumi.Config(NAMESPACE),
  opts?: pulumi.ComponentResourceOptions,
): OpenClawServer {
  // Pulumi keeps structured values as JSON text and plain ones as they are.
  const read = (key: string): unknown => {
    const value = config.get(key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  };
  // pulumi.Config reads one key at a time; only the whole map shows a misspelt one.
  const prefix = `${config.name}:`;
  const keys = Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(prefix))
    .map((key) => key.slice(prefix.length));
  const settings = parseStackSettings(Object.assign(read, { keys }));
  return new OpenClawServer(
    "openclaw",
    {
      firewall: config.requireObject("firewall"),
      // The component validates the router itself and logs what NAT does to the policy.
      [settings.target.kind]: targetArgs(settings.target, config),
      ssh: {
        user: settings.sshUser,
        privateKey: config.requireSecret("sshPrivateKey"),
        ...(settings.sshHostKey === undefined ? {} : { hostKey: settings.sshHostKey }),
      },
      ...(config.getObject("hardening") === undefined
        ? {}
        : { hardening: config.requireObject<HardeningOptions>("hardening") }),
    },
    opts,
  );
}

/**
 * `pulumi up`'s entry point (index.ts): runStack, with invalid config thrown as a RunError, which
 * Pulumi prints as the message alone, not as an unhandled exception with a JavaScript stack.
 */
export function runStackProgram(): OpenClawServer {
  try {
    return runStack();
  } catch (e) {
    if (e instanceof PolicyError) throw new pulumi.RunError(e.message);
    throw e;
  }
}

function targetArgs(target: TargetSettings, config: pulumi.Config): object {
  const { kind, ...settings } = target;
  if (kind !== "existing") return settings;
  return {
    address: target.address,
    sshPort: target.sshPort,
    ...(target.router ? { router: config.requireObject<{ router: never }>("existing").router } : {}),
  };
}
