import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import {
  HOST_KEY_SCRIPT,
  type HostKey,
  type PinSource,
  compareHostKey,
  describePin,
  parseHostKey,
  renderHostKeyMismatch,
} from "./hostKey";

export interface HostKeyPinArgs {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** The key to pin, already validated; unset, the key the host presents at first contact. */
  configured?: pulumi.Input<string>;
  /** The config key that pins one (`openclaw:sshHostKey`), for the messages. */
  configKey: string;
  /** A change means a new host: the first contact is taken again. */
  hostIdentity: pulumi.Input<string>[];
  /** The wait step: the host answers before its key is read. */
  wait: pulumi.Resource;
  deletedWith?: pulumi.Resource;
}

export interface HostKeyPin {
  /** `TYPE BASE64`: the only key every SSH step accepts; in a deployment, checked at the host first. */
  readonly hostKey: pulumi.Output<string>;
  /** The pinned key's `SHA256:...` fingerprint, to compare with the host's console. */
  readonly fingerprint: pulumi.Output<string>;
  /** How the pin was chosen, for the log line that names the SSH steps' target. */
  readonly description: pulumi.Output<string>;
}

/**
 * The host key every SSH step pins (`connection.hostKey`, so pulumi-command refuses any other
 * in the key exchange, before it sends anything). Given, it is the configured key; not given, it
 * is the one the host presented at first contact: `<name>-host-key`, a step on the deployer
 * whose output (in the stack's state) is the key, taken again only for a new host (trust on
 * first use). In a deployment (not a preview), the deployer then reads the host's key again
 * before any SSH step, and a different one fails the run, naming both: the steps take the pin
 * from that check, so none of them is even registered.
 */
export function pinHostKey(name: string, args: HostKeyPinArgs, parent: pulumi.Resource): HostKeyPin {
  const onHost = args.deletedWith ? { deletedWith: args.deletedWith } : {};
  const environment = (mode: "record" | "check") => ({
    OPENCLAW_SSH_HOST: args.host,
    OPENCLAW_SSH_PORT: pulumi.output(args.port).apply(String),
    OPENCLAW_HOST_KEY_MODE: mode,
  });
  let pinned: pulumi.Output<HostKey>;
  let source: pulumi.Output<PinSource>;
  if (args.configured !== undefined) {
    pinned = pulumi.output(args.configured).apply(toHostKey);
    source = pulumi.output<PinSource>({ kind: "config", key: args.configKey });
  } else {
    const firstContact = new command.local.Command(
      `${name}-host-key`,
      {
        create: "node",
        // Run again for anything but a new host, it prints the key it took: no new first contact.
        update: "node",
        stdin: HOST_KEY_SCRIPT,
        environment: environment("record"),
        triggers: args.hostIdentity,
      },
      { parent, dependsOn: [args.wait], ...onHost },
    );
    pinned = firstContact.stdout.apply(toHostKey);
    source = firstContact.urn.apply((urn): PinSource => ({
      kind: "first-contact",
      key: args.configKey,
      step: `${name}-host-key`,
      urn,
    }));
  }
  const where = pulumi.interpolate`${args.host} port ${args.port}`;
  // A preview connects to nothing; the engine runs the check at the start of a deployment.
  const checked = pulumi.runtime.isDryRun()
    ? pinned
    : pulumi
        .all([
          pinned,
          source,
          where,
          command.local.runOutput(
            { command: "node", stdin: HOST_KEY_SCRIPT, environment: environment("check") },
            { parent, dependsOn: [args.wait] },
          ),
        ])
        .apply(([key, from, at, scan]) => {
          const verdict = compareHostKey(key, scan.stdout, scan.stderr);
          if (verdict.kind === "mismatch")
            throw new pulumi.ResourceError(renderHostKeyMismatch(at, key, verdict, from), parent, true);
          // Safe to go on: the steps still refuse any other key; they only cannot say which.
          if (verdict.kind === "unreachable")
            pulumi.log.warn(
              `openclaw: could not read the host key at ${at} before the SSH steps (${verdict.reason}); ` +
                `they accept ${key.fingerprint} alone all the same`,
              parent,
            );
          return key;
        });
  return {
    hostKey: checked.apply((k) => k.line),
    fingerprint: checked.apply((k) => k.fingerprint),
    description: pulumi.all([checked, source]).apply(([k, from]) => describePin(k, from)),
  };
}

/** The pin from a validated config value or the first contact's output. */
function toHostKey(text: string): HostKey {
  const parsed = parseHostKey(text);
  if (!parsed.ok) throw new Error(`openclaw: the host key to pin ${parsed.problem}`);
  return parsed.key;
}
