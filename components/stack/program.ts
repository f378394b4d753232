import * as pulumi from "@pulumi/pulumi";
import { OpenClawServer } from "../OpenClawServer";
import { NAMESPACE, parseStackSettings } from "./settings";

/**
 * The stack program: read the stack's config, validate all of it, then build the server.
 * Invalid config throws here, before any resource is registered.
 */
export function runStack(
  config: pulumi.Config = new pulumi.Config(NAMESPACE),
  opts?: pulumi.ComponentResourceOptions,
): OpenClawServer {
  // Pulumi keeps structured values as JSON text and plain ones as they are.
  const settings = parseStackSettings((key) => {
    const value = config.get(key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  });
  return new OpenClawServer(
    "openclaw",
    {
      firewall: config.requireObject("firewall"),
      // The component validates the router itself and logs what NAT does to the policy.
      target:
        settings.target.kind === "existing"
          ? {
              kind: "existing",
              address: settings.target.address,
              sshPort: settings.target.sshPort,
              ...(settings.target.router
                ? { router: config.requireObject<{ router: never }>("existing").router }
                : {}),
            }
          : settings.target,
      ssh: {
        user: settings.sshUser,
        privateKey: config.requireSecret("sshPrivateKey"),
        ...(settings.sshHostKey === undefined ? {} : { hostKey: settings.sshHostKey }),
      },
      hardening: settings.hardening,
    },
    opts,
  );
}
