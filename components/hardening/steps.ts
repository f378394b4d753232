import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { FirewallPolicy } from "../policy/types";
import type { HostSettings } from "./options";
import { REMOTE_SHELL, renderConfirmScript, renderConvergeScript, renderVerifyScript } from "./script";

/** How to reach the host over SSH. */
export interface SshConnectionArgs {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** Always wrapped as a secret before it reaches any resource. */
  privateKey: pulumi.Input<string>;
  /**
   * The one host key accepted (`TYPE BASE64`, from pinHostKey): pulumi-command asks the host for
   * that key's type and refuses any other key in the key exchange, before it sends anything.
   */
  hostKey: pulumi.Input<string>;
}

export interface HardeningArgs {
  connection: SshConnectionArgs;
  policy: FirewallPolicy;
  /** Validated by parseHardeningOptions. */
  settings: HostSettings;
  /** Values whose change means a new host to harden from scratch (e.g. the server id). */
  hostIdentity: pulumi.Input<string>[];
  /** The VM; when it is deleted, these commands go with it instead of running on a dead host. */
  deletedWith?: pulumi.Resource;
  /** Resources that must exist first: the cloud firewall rules that admit SSH. */
  dependsOn?: pulumi.Resource[];
}

export interface Hardening {
  readonly converge: command.remote.Command;
  readonly verify: command.remote.Command;
  /** The last step; its output is the host's firewall status. */
  readonly confirm: command.remote.Command;
}

/**
 * The host layer: converge UFW to the policy over one SSH session, then verify it from a
 * second one, which also confirms the change (unconfirmed, the host rolls it back itself), then
 * confirm from a third, which confirms a change verify had to apply again.
 * Each takes its script and the policy on stdin. A policy change changes stdin and runs
 * `update`; a new host changes `triggers` and replaces (re-runs) all three steps.
 */
export function hardenHost(name: string, args: HardeningArgs, parent: pulumi.Resource): Hardening {
  const connection = sshConnection(args.connection, args.settings);
  const timeout = args.settings.timeout;
  const common = {
    parent,
    customTimeouts: { create: timeout, update: timeout },
    ...(args.deletedWith ? { deletedWith: args.deletedWith } : {}),
  };
  // Each step is its own SSH session running a constant command; only stdin differs.
  const step = (
    suffix: string,
    stdin: string,
    triggers: pulumi.Input<unknown>[],
    dependsOn: pulumi.Resource[],
  ) =>
    new command.remote.Command(
      `${name}-${suffix}`,
      { connection, create: REMOTE_SHELL, update: REMOTE_SHELL, stdin, triggers },
      { ...common, dependsOn },
    );
  const converge = step(
    "harden",
    renderConvergeScript(args.policy, args.settings),
    args.hostIdentity,
    args.dependsOn ?? [],
  );
  // Re-verify after every converge run, even when only the host drifted.
  const verify = step(
    "verify",
    renderVerifyScript(args.policy, args.settings),
    [...args.hostIdentity, converge.stdout],
    [converge],
  );
  // Pulumi keeps harden's new inputs even when its change is never confirmed, so a later run
  // re-runs only the step that failed: verify then applies the policy again, and this step, on a
  // newer connection, confirms it. It re-runs whenever verify's output changes.
  const confirm = step(
    "confirm",
    renderConfirmScript(args.policy, args.settings),
    [...args.hostIdentity, verify.stdout],
    [verify],
  );
  return { converge, verify, confirm };
}

/**
 * Dials an SSH step makes before it fails. The host already answered (the wait step saw sshd's
 * banner), so a failing dial is a wrong key, user or host key, and retrying it only feeds
 * fail2ban: pulumi-command retries after 0.1 s, growing 1.5 times to at most 5 s, so 11 dials
 * fail in about 20 s and 18 in about a minute. Enough dials are kept for a verify step whose
 * dials a locked-out host drops (one `perDialTimeout` each) to outlast `rollbackAfter` and
 * report the rollback, up to 18.
 */
export function dialErrorLimit(settings: Pick<HostSettings, "rollbackAfter" | "perDialTimeout">): number {
  return Math.min(18, Math.ceil(settings.rollbackAfter / settings.perDialTimeout) + 3);
}

/** The one SSH connection every remote step uses: the private key always a secret, the host key pinned. */
export function sshConnection(
  args: SshConnectionArgs,
  settings: Pick<HostSettings, "rollbackAfter" | "perDialTimeout">,
): command.types.input.remote.ConnectionArgs {
  return {
    host: args.host,
    port: args.port,
    user: args.user,
    privateKey: pulumi.secret(args.privateKey),
    dialErrorLimit: dialErrorLimit(settings),
    perDialTimeout: settings.perDialTimeout,
    hostKey: args.hostKey,
  };
}
