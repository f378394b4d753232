import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type * as Random from "@pulumi/random";
import type { OpenClawSecretInputs } from "./parse";
import type { OpenClawSpec } from "./types";
import { seconds } from "../hardening/options";
import {
  composeOpenClawInstall,
  parseOpenClawVersion,
  renderOpenClawInstallScript,
  renderOpenClawRemoveScript,
  renderOpenClawSecrets,
  renderOpenClawVerifyScript,
} from "./script";
import { REMOTE_SHELL } from "../hardening/script";

/** npm installs about 650 MB for OpenClaw: the install step gets at least this long. */
export const MIN_INSTALL_SECONDS = 20 * 60;
/** The generated token: 48 letters and digits (about 285 bits). */
export const GENERATED_TOKEN_LENGTH = 48;

export interface OpenClawStepsArgs {
  /** The hardening steps' SSH connection (sshConnection): the private key already a secret. */
  connection: command.types.input.remote.ConnectionArgs;
  spec: OpenClawSpec;
  secrets: OpenClawSecretInputs;
  /** The hardening's step timeout, a Pulumi duration. */
  timeout: string;
  /** The hardening's state directory (its stateDir): the install step keeps it apart from OpenClaw's. */
  hardeningStateDir: string;
  /** A change means a new host: every step runs again from scratch. */
  hostIdentity: pulumi.Input<string>[];
  /** The hardening's last step: OpenClaw goes on a host whose firewall is confirmed. */
  confirm: command.remote.Command;
  /** The VM: deleted with it, these steps run nothing on a host that is going away. */
  deletedWith?: pulumi.Resource;
}

export interface OpenClawSteps {
  /** Installs or upgrades, writes the secrets, (re)starts the service. */
  readonly install: command.remote.Command;
  /** Health, reachability and the security audit, after every install run. */
  readonly verify: command.remote.Command;
  /** Runs the removal only when the resource is deleted (removeOnDestroy); nothing otherwise. */
  readonly remove: command.remote.Command;
  /** The token the gateway requires: the one given, or the generated one. A secret. */
  readonly gatewayToken: pulumi.Output<string>;
  /** The version the host reported after the install, once verify has passed. */
  readonly version: pulumi.Output<string>;
}

/**
 * OpenClaw on the hardened host: `<name>-openclaw-remove` (a delete-time step), `<name>-openclaw`
 * (install) and `<name>-openclaw-verify`, in that order after `<name>-confirm`, each behind the
 * constant REMOTE_SHELL with its script on stdin. The secrets reach the host only inside the
 * install step's stdin, which is a secret as a whole.
 */
export function installOpenClaw(
  name: string,
  args: OpenClawStepsArgs,
  parent: pulumi.Resource,
): OpenClawSteps {
  const { connection, spec, secrets } = args;
  const onHost = args.deletedWith ? { deletedWith: args.deletedWith } : {};
  const token = secrets.gatewayToken ?? generatedToken(name, parent);

  // pulumi-command runs `delete` with the stdin of the state, which for the install step holds
  // the secrets: removal is a step of its own, whose stdin is the removal script alone. It
  // exists whenever OpenClaw does, with `delete` set only when asked, so that turning
  // removeOnDestroy off updates it (nothing runs) instead of deleting it (the removal would run).
  // Before the install, so that a new address for the same existing host removes through the
  // old one first (delete before replace) and installs again after, never the other way round.
  const remove = new command.remote.Command(
    `${name}-openclaw-remove`,
    {
      connection,
      ...(spec.removeOnDestroy ? { delete: REMOTE_SHELL } : {}),
      stdin: renderOpenClawRemoveScript(spec),
      triggers: args.hostIdentity,
    },
    {
      parent,
      dependsOn: [args.confirm],
      deleteBeforeReplace: true,
      customTimeouts: { delete: args.timeout },
      ...onHost,
    },
  );

  const installTimeout = `${Math.max(seconds(args.timeout), MIN_INSTALL_SECONDS)}s`;
  const install = new command.remote.Command(
    `${name}-openclaw`,
    {
      connection,
      create: REMOTE_SHELL,
      update: REMOTE_SHELL,
      // Rendered inside apply, from the resolved secrets; the whole stdin is a secret, even when
      // the secrets were given as plain strings.
      stdin: pulumi.secret(
        pulumi
          .all([token, secrets.anthropicApiKey, secrets.openaiApiKey])
          .apply(([gatewayToken, anthropicApiKey, openaiApiKey]) =>
            composeOpenClawInstall(
              renderOpenClawInstallScript(spec, args.hardeningStateDir),
              renderOpenClawSecrets({
                gatewayToken,
                ...(anthropicApiKey === undefined ? {} : { anthropicApiKey }),
                ...(openaiApiKey === undefined ? {} : { openaiApiKey }),
              }),
            ),
          ),
      ),
      triggers: args.hostIdentity,
    },
    {
      parent,
      dependsOn: [args.confirm, remove],
      customTimeouts: { create: installTimeout, update: installTimeout },
      ...onHost,
    },
  );

  // Again after every install run and every firewall change (confirm's output).
  const verify = new command.remote.Command(
    `${name}-openclaw-verify`,
    {
      connection,
      create: REMOTE_SHELL,
      update: REMOTE_SHELL,
      stdin: renderOpenClawVerifyScript(spec),
      triggers: [...args.hostIdentity, install.stdout, args.confirm.stdout],
    },
    {
      parent,
      dependsOn: [install],
      customTimeouts: { create: args.timeout, update: args.timeout },
      ...onHost,
    },
  );

  return {
    install,
    verify,
    remove,
    gatewayToken: pulumi.secret(token),
    // Known once verify has passed: the version that runs, healthy. pulumi-command marks stdout
    // secret when an input is (the stdin, the key); a version string parsed from it is not.
    version: pulumi.unsecret(
      pulumi.all([install.stdout, verify.stdout]).apply(([stdout]) => parseOpenClawVersion(stdout)),
    ),
  };
}

/**
 * `<name>-gateway-token`: kept in the state, the same on every run until replaced
 * (`pulumi up --replace` on it). @pulumi/random is loaded only when a token is generated.
 */
function generatedToken(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, on first use
  const random = require("@pulumi/random") as typeof Random;
  return new random.RandomPassword(
    `${name}-gateway-token`,
    { length: GENERATED_TOKEN_LENGTH, special: false },
    { parent },
  ).result;
}
