import * as pulumi from "@pulumi/pulumi";
import { OpenClawServer, type OpenClawServerArgs } from "../OpenClawServer";
import { PolicyError } from "../policy/errors";
import { NAMESPACE, mapStackConfig } from "./settings";

/**
 * The stack program: read the stack's config, map it to the component's args, and build the
 * server. The component validates them: invalid config throws there, before any resource is
 * registered, with errors that name the stack's keys.
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
  // The stack program only maps; the component validates, naming the stack's keys.
  const mapped = mapStackConfig(Object.assign(read, { keys }), config.getSecret("sshPrivateKey"), {
    gatewayToken: config.getSecret("gatewayToken"),
    anthropicApiKey: config.getSecret("anthropicApiKey"),
    openaiApiKey: config.getSecret("openaiApiKey"),
  });
  return new OpenClawServer("openclaw", mapped.args as unknown as OpenClawServerArgs, {
    ...opts,
    configKeys: { keys: mapped.keys, problems: mapped.problems },
  });
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
