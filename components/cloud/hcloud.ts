import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import { PolicyError } from "../policy/errors";
import type { FirewallPolicy } from "../policy/types";
import { renderHcloudRules } from "./hcloudRules";

export interface HcloudServerArgs {
  /** Server type, e.g. `cx23`, `cpx22` or `cax11`. */
  serverType: pulumi.Input<string>;
  /** Location, e.g. `fsn1`, `nbg1`, `hel1`. */
  location: pulumi.Input<string>;
  /** Image name. Default `ubuntu-24.04`. Hetzner resolves it when the server is created. */
  image?: pulumi.Input<string>;
  /**
   * OpenSSH public key for `root`. Alone, the component gives it to Hetzner as an SSH key of its
   * own; with `sshKey`, it is only authorized on the host over SSH. Either way a new key reaches
   * the running server over SSH (see OpenClawServer) and never replaces it.
   */
  publicKey?: pulumi.Input<string>;
  /**
   * The name or id of an SSH key already in the Hetzner project, to launch the server with.
   * Hetzner holds each public key once per project, so several servers with one key, or a key
   * uploaded before, need this: create one `hcloud.SshKey` (or upload it) and name it here.
   * Give at least one of `publicKey` and `sshKey`.
   */
  sshKey?: pulumi.Input<string>;
}

export interface HcloudServer {
  readonly server: hcloud.Server;
  readonly firewall: hcloud.Firewall;
}

// The public keys this program has given an SshKey, by `TYPE BASE64`, with the component that
// owns each. Hetzner refuses a second key with the same fingerprint (uniqueness_error), so a
// second server with the same key must be refused here, before anything reaches the cloud.
const keyOwners = new Map<string, string>();

/** A Hetzner server with its firewall attached through `firewallIds`, so it holds from first boot. */
export function createHcloudServer(
  name: string,
  args: HcloudServerArgs,
  policy: FirewallPolicy,
  parent: pulumi.Resource,
): HcloudServer {
  let keyRef: pulumi.Input<string>;
  let sshKey: hcloud.SshKey | undefined;
  if (args.sshKey !== undefined) {
    keyRef = args.sshKey;
  } else {
    claimKey(name, args.publicKey!);
    // `sshKeys` forces a new server, and a new public key forces a new SshKey. So the key's name
    // is fixed, not derived from the key, and the server refers to it by that name (Hetzner
    // takes names or ids): a rotated key replaces only the SshKey (deleted first, as names are
    // unique in a project) and the server's input stays the same known string.
    keyRef = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    sshKey = new hcloud.SshKey(
      `${name}-key`,
      { name: keyRef, publicKey: args.publicKey! },
      { parent, deleteBeforeReplace: true },
    );
  }
  const firewall = new hcloud.Firewall(`${name}-firewall`, { rules: renderHcloudRules(policy) }, { parent });
  const server = new hcloud.Server(
    `${name}-server`,
    {
      serverType: args.serverType,
      location: args.location,
      image: args.image ?? "ubuntu-24.04",
      sshKeys: [keyRef],
      firewallIds: [firewall.id.apply(Number)],
      publicNets: [{ ipv4Enabled: true, ipv6Enabled: policy.ipv6 }],
    },
    { parent, ...(sshKey ? { dependsOn: [sshKey] } : {}) },
  );
  return { server, firewall };
}

/** Refuses a public key another server in this program already gave Hetzner. */
function claimKey(name: string, publicKey: pulumi.Input<string>): void {
  // An Output's value is not known here; Hetzner itself refuses a duplicate then.
  if (typeof publicKey !== "string") return;
  const identity = publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
  const owner = keyOwners.get(identity);
  if (owner !== undefined && owner !== name) {
    throw new PolicyError([
      {
        key: `${name}.hcloud.publicKey`,
        value: publicKey,
        problem: `is the public key ${owner} already gives Hetzner, which holds each key once per project (uniqueness_error)`,
        accepted: `one hcloud.SshKey for the key, named in hcloud.sshKey of both ${owner} and ${name}`,
      },
    ]);
  }
  keyOwners.set(identity, name);
}
