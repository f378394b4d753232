import type * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HttpsSpec } from "../openclaw/types";
import { seconds } from "../hardening/options";
import { CERT_TIMEOUT_SECONDS, proxyShell, renderProxyScript } from "./script";

/** apt installs Caddy, then the CA validates and issues: the apply step gets at least this long. */
export const MIN_PROXY_SECONDS = 2 * CERT_TIMEOUT_SECONDS;

export interface ProxyStepsArgs {
  /** The hardening steps' SSH connection (sshConnection): the host key pinned, the key a secret. */
  connection: command.types.input.remote.ConnectionArgs;
  https: HttpsSpec;
  /** The gateway's port on loopback, which Caddy proxies to. */
  gatewayPort: number;
  /** The hardening's step timeout, a Pulumi duration. */
  timeout: string;
  /** A change means a new host: the steps run again from scratch. */
  hostIdentity: pulumi.Input<string>[];
  /** The hardening's last step: 80 and 443 are open in every layer before Caddy asks the CA. */
  confirm: command.remote.Command;
  /** OpenClaw's install step: the gateway trusts the proxy before the proxy forwards to it. */
  openclaw: command.remote.Command;
  /** The VM: deleted with it, these steps run nothing on a host that is going away. */
  deletedWith?: pulumi.Resource;
}

export interface ProxySteps {
  /** Installs Caddy, writes its Caddyfile, waits for the certificate; deleted, removes the proxy. */
  readonly proxy: command.remote.Command;
  /** Caddy, the certificate, the redirect and the listeners, after every apply and firewall change. */
  readonly verify: command.remote.Command;
}

/**
 * The HTTPS proxy on the host: `<name>-proxy` (apply on create and update, remove on delete) and
 * `<name>-proxy-verify`, after `<name>-confirm` and `<name>-openclaw`. Both send the same script
 * on stdin behind a constant command text that names the mode. Turning `https` off deletes
 * `<name>-proxy`, whose delete runs the removal with the script it was created with.
 */
export function installProxy(name: string, args: ProxyStepsArgs, parent: pulumi.Resource): ProxySteps {
  const onHost = args.deletedWith ? { deletedWith: args.deletedWith } : {};
  const script = renderProxyScript(args.https, args.gatewayPort);
  const applyTimeout = `${Math.max(seconds(args.timeout), MIN_PROXY_SECONDS)}s`;
  const proxy = new command.remote.Command(
    `${name}-proxy`,
    {
      connection: args.connection,
      create: proxyShell("apply"),
      update: proxyShell("apply"),
      delete: proxyShell("remove"),
      stdin: script,
      triggers: args.hostIdentity,
    },
    {
      parent,
      dependsOn: [args.confirm, args.openclaw],
      // A new address for the same existing host removes through the old one first, then
      // applies again, never the other way round (which would remove what was just applied).
      deleteBeforeReplace: true,
      customTimeouts: { create: applyTimeout, update: applyTimeout, delete: args.timeout },
      ...onHost,
    },
  );
  // Again after every apply, every OpenClaw install and every firewall change.
  const verify = new command.remote.Command(
    `${name}-proxy-verify`,
    {
      connection: args.connection,
      create: proxyShell("verify"),
      update: proxyShell("verify"),
      stdin: script,
      triggers: [...args.hostIdentity, proxy.stdout, args.openclaw.stdout, args.confirm.stdout],
    },
    {
      parent,
      dependsOn: [proxy],
      customTimeouts: { create: args.timeout, update: args.timeout },
      ...onHost,
    },
  );
  return { proxy, verify };
}
