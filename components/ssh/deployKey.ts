import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { assign } from "../hardening/script";

/** The key step's command text: the login user's own shell, no sudo (it edits only their files). */
export const USER_SHELL = "exec /bin/sh -s";

/**
 * Appends the deploy key to the login user's `~/.ssh/authorized_keys` unless a line already
 * holds it (matched on type and key, whatever its options or comment). It removes nothing: the
 * old key stays until the operator, logged in with the new one, deletes it. All functions and
 * one call on the last line, so a script cut short in transit runs nothing.
 */
export function renderAuthorizeKeyScript(publicKey: string): string {
  return [
    "#!/bin/sh",
    "# openclaw: authorize the deploy key for the login user. Generated; the key travels on stdin.",
    "set -eu",
    assign("KEY", publicKey),
    String.raw`main() {
  umask 077
  keys="$HOME/.ssh/authorized_keys"
  mkdir -p "$HOME/.ssh"
  touch "$keys"
  want=$(printf '%s\n' "$KEY" | awk '{ print $1 " " $2 }')
  if awk -v want="$want" '{ for (i = 1; i < NF; i++) if ($i " " $(i + 1) == want) found = 1 } END { exit !found }' "$keys"; then
    echo "openclaw: the deploy key is already authorized for $(id -un)"
    return 0
  fi
  # Append on a line of its own, even when the file does not end in a newline.
  if [ -s "$keys" ] && [ -n "$(tail -c 1 "$keys")" ]; then echo >>"$keys"; fi
  printf '%s\n' "$KEY" >>"$keys"
  echo "openclaw: authorized the new deploy key for $(id -un) in $keys; the keys it had before stay until you remove them"
}`,
    "main",
    "",
  ].join("\n");
}

export interface AuthorizeKeyArgs {
  /** The shared SSH connection of the hardening steps. */
  connection: command.types.input.remote.ConnectionArgs;
  /** The deploy key's public half, already validated (or checked when it resolves). */
  publicKey: pulumi.Input<string>;
  /** Re-run on a new host. */
  triggers: pulumi.Input<unknown>[];
  dependsOn: pulumi.Resource[];
  deletedWith?: pulumi.Resource;
  /** A Pulumi duration for the step. */
  timeout: string;
}

/**
 * Delivers a rotated public key to the running host. The cloud's key (an EC2 key pair, a Hetzner
 * SSH key) is read only when a VM is created; this step is how a new key reaches a VM that
 * already runs, without replacing it.
 */
export function authorizeKey(
  name: string,
  args: AuthorizeKeyArgs,
  parent: pulumi.Resource,
): command.remote.Command {
  return new command.remote.Command(
    `${name}-authorize-key`,
    {
      connection: args.connection,
      create: USER_SHELL,
      update: USER_SHELL,
      stdin: pulumi.output(args.publicKey).apply(renderAuthorizeKeyScript),
      triggers: args.triggers,
    },
    {
      parent,
      dependsOn: args.dependsOn,
      customTimeouts: { create: args.timeout, update: args.timeout },
      ...(args.deletedWith ? { deletedWith: args.deletedWith } : {}),
    },
  );
}
