import type { StackSettings } from "../stack/settings";
import { type BlocksOptions, UsageError } from "./options";

/** Where `npm run blocks` logs in: the stack's host, as the deployment reaches it. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** openclaw:sshHostKey, when the stack pins the host's key: checked here too. */
  readonly hostKey?: string;
}

/**
 * The command line's --host, --port and --user over the stack's own settings. An existing
 * host's address is in its stack file; a cloud VM's is a stack output this tool cannot read
 * without Pulumi, so --host is required for it.
 */
export function blocksTarget(settings: StackSettings, options: BlocksOptions): SshTarget {
  const t = settings.target;
  const host = options.host ?? (t.kind === "existing" ? t.address : undefined);
  if (host === undefined) {
    throw new UsageError(
      `--host is required for stack ${options.stack}: it is an ${t.kind} target, whose address is a stack output. ` +
        `Accepted: the VM's address, e.g. --host "$(pulumi stack output publicIpv4 -s ${options.stack})".`,
    );
  }
  return {
    host,
    port: options.port ?? (t.kind === "existing" ? t.sshPort : 22),
    user: options.user ?? settings.sshUser,
    ...(settings.sshHostKey === undefined ? {} : { hostKey: settings.sshHostKey }),
  };
}
