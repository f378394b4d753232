import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import type { FirewallPolicy } from "../policy/types";
import { renderHcloudRules } from "../render/hcloudRules";

export interface HcloudServerArgs {
  /** Server type, e.g. `cx23`, `cpx22` or `cax11`. */
  serverType: pulumi.Input<string>;
  /** Location, e.g. `fsn1`, `nbg1`, `hel1`. */
  location: pulumi.Input<string>;
  /** Image name. Default `ubuntu-24.04`. */
  image?: pulumi.Input<string>;
  /** OpenSSH public key installed for `root`. */
  publicKey: pulumi.Input<string>;
}

export interface HcloudServer {
  readonly server: hcloud.Server;
  readonly firewall: hcloud.Firewall;
}

/** A Hetzner server with its firewall attached through `firewallIds`, so it holds from first boot. */
export function createHcloudServer(
  name: string,
  args: HcloudServerArgs,
  policy: FirewallPolicy,
  parent: pulumi.Resource,
): HcloudServer {
  const firewall = new hcloud.Firewall(`${name}-firewall`, { rules: renderHcloudRules(policy) }, { parent });
  const sshKey = new hcloud.SshKey(`${name}-key`, { publicKey: args.publicKey }, { parent });
  const server = new hcloud.Server(
    `${name}-server`,
    {
      serverType: args.serverType,
      location: args.location,
      image: args.image ?? "ubuntu-24.04",
      sshKeys: [sshKey.id],
      firewallIds: [firewall.id.apply(Number)],
      publicNets: [{ ipv4Enabled: true, ipv6Enabled: policy.ipv6 }],
    },
    { parent },
  );
  return { server, firewall };
}
