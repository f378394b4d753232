import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { FirewallPolicy } from "../policy/types";
import { renderAwsRules } from "./awsRules";

/** Canonical's AWS account: the only owner we accept Ubuntu images from. */
export const CANONICAL_OWNER = "099720109477";

export interface AwsServerArgs {
  /** EC2 instance type, e.g. `t3.small`; Graviton types (`t4g`, `c7g`, ...) get an arm64 image. */
  instanceType: pulumi.Input<string>;
  /**
   * OpenSSH public key for the default user (`ubuntu`). A new key reaches the running host over
   * SSH (see OpenClawServer) and the key pair for later launches; it never replaces the instance.
   */
  publicKey: pulumi.Input<string>;
  /** Subnet to launch in; default: the default VPC's default subnet. Requires `vpcId`. */
  subnetId?: pulumi.Input<string>;
  /** VPC of the security group; default: the default VPC. */
  vpcId?: pulumi.Input<string>;
  /**
   * AMI id. Default: the newest Ubuntu 24.04 from Canonical for the instance's architecture, as
   * found when the instance is created, and kept after that (a newer image never replaces a
   * running instance). Set it to move to another image: that replaces the instance.
   */
  ami?: pulumi.Input<string>;
  /** Root volume size in GiB (encrypted gp3). Default 20. */
  rootVolumeGiB?: pulumi.Input<number>;
}

export interface AwsServer {
  readonly instance: aws.ec2.Instance;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly rules: pulumi.Resource[];
}

/** An EC2 instance with its security group attached at creation, rules rendered from the policy. */
export function createAwsServer(
  name: string,
  args: AwsServerArgs,
  policy: FirewallPolicy,
  parent: pulumi.Resource,
): AwsServer {
  const securityGroup = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      description: "OpenClaw server: rules managed by openclaw-server",
      ...(args.vpcId === undefined ? {} : { vpcId: args.vpcId }),
      tags: { Name: `${name}-sg` },
    },
    { parent },
  );
  const rules = renderAwsRules(policy).map((r) => {
    const ruleArgs = {
      securityGroupId: securityGroup.id,
      ipProtocol: r.ipProtocol,
      description: r.description,
      ...(r.fromPort === undefined ? {} : { fromPort: r.fromPort, toPort: r.toPort }),
      ...(r.cidrIpv4 === undefined ? {} : { cidrIpv4: r.cidrIpv4 }),
      ...(r.cidrIpv6 === undefined ? {} : { cidrIpv6: r.cidrIpv6 }),
    };
    return r.direction === "ingress"
      ? new aws.vpc.SecurityGroupIngressRule(`${name}-${r.key}`, ruleArgs, { parent })
      : new aws.vpc.SecurityGroupEgressRule(`${name}-${r.key}`, ruleArgs, { parent });
  });
  const ami =
    args.ami ??
    pulumi.output(args.instanceType).apply((type) =>
      aws.ec2
        .getAmi(
          {
            owners: [CANONICAL_OWNER],
            mostRecent: true,
            filters: [
              {
                name: "name",
                values: [`ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${architecture(type)}-server-*`],
              },
              { name: "virtualization-type", values: ["hvm"] },
            ],
          },
          { parent },
        )
        .then((image) => image.id),
    );
  // `keyName` forces a new instance (aws_instance key_name is ForceNew), and a new public key
  // forces a new key pair. So the pair's name is fixed, not derived from the key: a rotated key
  // replaces only the pair (deleted first, as the name is taken), and the instance's input stays
  // the same known string, in preview too.
  const keyName = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
  const keyPair = new aws.ec2.KeyPair(
    `${name}-key`,
    { keyName, publicKey: args.publicKey },
    { parent, deleteBeforeReplace: true },
  );
  const instance = new aws.ec2.Instance(
    `${name}-instance`,
    {
      ami,
      instanceType: args.instanceType,
      keyName,
      vpcSecurityGroupIds: [securityGroup.id],
      ...(args.subnetId === undefined ? {} : { subnetId: args.subnetId }),
      associatePublicIpAddress: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeType: "gp3", volumeSize: args.rootVolumeGiB ?? 20, encrypted: true },
      tags: { Name: name },
    },
    {
      parent,
      // The rules exist before the instance boots, so nothing reaches it unfiltered.
      dependsOn: [...rules, keyPair],
      // `ami` forces a new instance. A looked-up image is the newest one today; tomorrow's answer
      // must not replace a running server, so the one it was created from is kept (also through
      // a replacement for another reason). An `ami` the user sets is never ignored: that is how
      // they ask for another image.
      ...(args.ami === undefined ? { ignoreChanges: ["ami"] } : {}),
    },
  );
  return { instance, securityGroup, rules };
}

/** Graviton families carry a `g` after the generation digit: t4g, c7g, m7gd. */
export function architecture(instanceType: string): "amd64" | "arm64" {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType) ? "arm64" : "amd64";
}
