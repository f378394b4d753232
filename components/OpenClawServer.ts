import * as pulumi from "@pulumi/pulumi";
import { type AwsServerArgs, type HcloudServerArgs, createAwsServer, createHcloudServer } from "./cloud/lazy";
import { authorizeKey } from "./ssh/deployKey";
import { hardenHost, sshConnection } from "./hardening/steps";
import { pinHostKey } from "./ssh/hostKeyPin";
import { type HardeningOptions, seconds } from "./hardening/options";
import { installOpenClaw } from "./openclaw/steps";
import { installProxy } from "./proxy/steps";
import { waitForSsh } from "./ssh/wait";
import type { OpenClawArgs } from "./openclaw/parse";
import { Findings, type PolicyProblem, formatWarning } from "./policy/errors";
import type { FirewallConfig, FirewallPolicy } from "./policy/types";
import { renderAdmittedTable } from "./plan/table";
import { type ArgKeys, type ParseOptions, componentKeys, parseServerArgs } from "./serverArgs";

/** Run on a new EC2 instance. The region comes from the AWS provider. */
export type AwsTarget = AwsServerArgs;

/** Run on a new Hetzner Cloud server. */
export type HcloudTarget = HcloudServerArgs;

/** Harden a host that already runs, such as a home server behind a NAT router. */
export interface ExistingTarget {
  /** Address the deployer reaches the host at. */
  address: pulumi.Input<string>;
  /**
   * SSH port the deployer reaches; defaults to the policy's SSH port. Behind a port-forward it
   * differs from `firewall.ssh.port`.
   */
  sshPort?: pulumi.Input<number>;
  /**
   * The NAT router in front of the host. Declared, it turns source restrictions on forwarded
   * ports into warnings that say what they will really do.
   */
  router?: RouterArgs;
}

/** A NAT router in front of an existing host. */
export interface RouterArgs {
  /** The router's LAN address: what the host sees when the router masquerades. */
  address: string;
  /** The ports it forwards to the host. */
  forwards: number[];
  /** Whether it rewrites the source address (SNAT/MASQUERADE) of what it forwards. */
  masquerade: boolean;
}

/** The SSH identity the hardening logs in with. */
export interface SshArgs {
  /**
   * Login user; defaults: `ubuntu` (aws), `root` (hcloud). Required for existing hosts. A user
   * other than root needs passwordless `sudo`.
   */
  user?: pulumi.Input<string>;
  /** Private key for that user; wrapped as a secret whatever it arrives as. */
  privateKey: pulumi.Input<string>;
  /**
   * The host's public key (`TYPE BASE64`, with or without a comment; ssh-ed25519 or ECDSA), the
   * only one the SSH steps accept. Unset, the key the host presents at first contact is pinned instead (trust on first
   * use), and kept in the stack's state until the host is replaced.
   */
  hostKey?: pulumi.Input<string>;
}

/**
 * Where the server runs is one block per target (`aws`, `hcloud`, `existing`), exactly one of
 * them set: the multi-language schema (PulumiPlugin.yaml) has no unions. Everything is checked
 * in the constructor, before any child resource is registered, with errors keyed by `name`.
 */
export interface OpenClawServerArgs {
  /**
   * The firewall policy, as written under `openclaw:firewall` in a stack file. A plain value,
   * not an Input: the cloud firewall's rules are one resource each, named from their content,
   * and resources cannot be registered from inside an Output.
   */
  firewall: FirewallConfig;
  /** Run on a new EC2 instance. */
  aws?: AwsTarget;
  /** Run on a new Hetzner Cloud server. */
  hcloud?: HcloudTarget;
  /** Harden a host that already runs. */
  existing?: ExistingTarget;
  /** The SSH identity the hardening logs in with. */
  ssh: SshArgs;
  /** Options for the hardening steps. */
  hardening?: HardeningOptions;
  /**
   * OpenClaw on the server: installed, run as its own user and verified, bound to loopback
   * unless the policy admits its port. On by default on `aws` and `hcloud`, off on `existing`.
   */
  openclaw?: OpenClawArgs;
}

/** Pulumi's options, and for a program that maps its own config to the args, whose keys to name. */
export interface OpenClawServerOptions extends pulumi.ComponentResourceOptions {
  /**
   * The keys errors name, when the args were mapped from a config (the stack program passes
   * `stackKeys("openclaw")`, so an error names `openclaw:sshUser`, not `openclaw.ssh.user`), and
   * the problems found while mapping it, reported with the args' own. An option rather than an
   * arg: it is not part of the multi-language schema, which is read from `args` alone.
   */
  readonly configKeys?: { readonly keys: ArgKeys; readonly problems?: readonly PolicyProblem[] };
}

/** package.json's name, then the module and the class, as the schema (npm run schema) names it. */
const COMPONENT_TYPE = "openclaw-server:index:OpenClawServer";

/**
 * An OpenClaw server on AWS, Hetzner Cloud or an existing host, with one firewall policy
 * enforced by the cloud firewall (from the first packet) and by UFW on the host (converged and
 * verified over SSH).
 */
export class OpenClawServer extends pulumi.ComponentResource {
  /** Public IPv4 address (the address hardened, for an existing host). */
  public readonly publicIpv4: pulumi.Output<string | undefined>;
  /** Public IPv6 address, where the target has one (Hetzner; AWS in an IPv6 subnet). */
  public readonly publicIpv6: pulumi.Output<string | undefined>;
  /** The command that reaches the host over SSH, e.g. `ssh -p 22 ubuntu@203.0.113.10`. */
  public readonly sshCommand: pulumi.Output<string>;
  /**
   * The host key every SSH step accepts (`TYPE BASE64`): the one given, or the one the host
   * presented at first contact. Pin it with `ssh.hostKey` once checked.
   */
  public readonly sshHostKey: pulumi.Output<string>;
  /** That key's fingerprint (`SHA256:...`), to compare with the host's console or the cloud's. */
  public readonly sshHostKeyFingerprint: pulumi.Output<string>;
  /** The security group or Hetzner firewall id; undefined for an existing host. */
  public readonly cloudFirewallId: pulumi.Output<string | undefined>;
  /**
   * The layers enforcing the policy, outermost first: `["aws-security-group", "ufw"]`,
   * `["hcloud-firewall", "ufw"]`, or `["ufw"]` for an existing host.
   */
  public readonly firewallLayers: pulumi.Output<string[]>;
  /**
   * Who may reach which port, over which protocol and family, as a text table (as `npm run plan`
   * prints it). The declared policy only: rules kept by `hardening.unmanagedRules: keep` are not
   * in it.
   */
  public readonly admittedTraffic: pulumi.Output<string>;
  /**
   * The verify report (with `hardening.unmanagedRules: keep`, the rules kept), then
   * `ufw status verbose` as read on the host after the policy was verified there.
   */
  public readonly hostFirewallStatus: pulumi.Output<string>;
  /**
   * Where the gateway answers: `https://<domain>/` with `openclaw.https`; otherwise
   * `http://127.0.0.1:<port>` through `sshTunnelCommand` when it is bound to loopback,
   * `http://<publicIpv4>:<port>` when the policy admits its port. Undefined when OpenClaw is not
   * installed.
   */
  public readonly gatewayUrl: pulumi.Output<string | undefined>;
  /**
   * The SSH tunnel to the gateway's port, e.g. `ssh -N -L 18789:127.0.0.1:18789 -p 22
   * root@198.51.100.20`; undefined without OpenClaw.
   */
  public readonly sshTunnelCommand: pulumi.Output<string | undefined>;
  /**
   * The token the gateway requires, given or generated; a secret (`pulumi stack output
   * --show-secrets gatewayToken`). Undefined without OpenClaw.
   */
  public readonly gatewayToken: pulumi.Output<string | undefined>;
  /**
   * The OpenClaw version the host reported after the install and verify passed, not the version
   * declared; undefined without OpenClaw.
   */
  public readonly openclawVersion: pulumi.Output<string | undefined>;
  /**
   * The normalised policy every layer was rendered from, for TypeScript programs. A getter, so
   * that the schema's analyzer (which reads properties) leaves it out: it is not an output.
   */
  public get policy(): FirewallPolicy {
    return policies.get(this)!;
  }

  constructor(name: string, args: OpenClawServerArgs, opts: OpenClawServerOptions = {}) {
    // Everything is validated before anything is registered, with keys named from `name`, or
    // the keys of the config the args were mapped from. This is the one place args are checked.
    const { configKeys, ...resourceOptions } = opts;
    const keys = configKeys?.keys ?? componentKeys(name);
    const spec = parseServerArgs(args, keys, {
      defer: checkWhenKnown,
      ...(configKeys?.problems ? { problems: configKeys.problems } : {}),
    });
    // The type is the package's name (package.json) and the class: what a Pulumi YAML or Python
    // program asks the component provider to construct. Stacks created under the earlier type
    // keep their resources through the alias (and the children through theirs, derived from it).
    super(
      COMPONENT_TYPE,
      name,
      {},
      {
        ...resourceOptions,
        aliases: [...(resourceOptions.aliases ?? []), { type: "openclaw:index:OpenClawServer" }],
      },
    );
    const { policy, target, hardening: settings } = spec;
    for (const w of spec.warnings) pulumi.log.warn(formatWarning(w), this);
    policies.set(this, policy);

    let host: pulumi.Output<string>;
    let port: pulumi.Input<number> = policy.ssh.ports[0]!.from;
    let hostIdentity: pulumi.Input<string>[];
    let deletedWith: pulumi.Resource | undefined;
    let dependsOn: pulumi.Resource[] = [];
    switch (target.kind) {
      case "aws": {
        const aws = createAwsServer(name, target, policy, this);
        host = aws.instance.publicIp;
        this.publicIpv4 = aws.instance.publicIp;
        this.publicIpv6 = aws.instance.ipv6Addresses.apply((a) => a[0]);
        this.cloudFirewallId = aws.securityGroup.id;
        this.firewallLayers = pulumi.output(["aws-security-group", "ufw"]);
        hostIdentity = [aws.instance.id];
        deletedWith = aws.instance;
        dependsOn = [aws.instance, ...aws.rules];
        break;
      }
      case "hcloud": {
        const hc = createHcloudServer(name, target, policy, this);
        host = hc.server.ipv4Address;
        this.publicIpv4 = hc.server.ipv4Address;
        this.publicIpv6 = hc.server.ipv6Address.apply((a) => a || undefined);
        this.cloudFirewallId = hc.firewall.id;
        this.firewallLayers = pulumi.output(["hcloud-firewall", "ufw"]);
        hostIdentity = [hc.server.id];
        deletedWith = hc.server;
        dependsOn = [hc.server];
        break;
      }
      case "existing": {
        host = pulumi.output(target.address);
        port = target.sshPort;
        this.publicIpv4 = pulumi.output(target.address);
        this.publicIpv6 = pulumi.output(undefined);
        this.cloudFirewallId = pulumi.output(undefined);
        this.firewallLayers = pulumi.output(["ufw"]);
        hostIdentity = [pulumi.interpolate`${target.address}:${port}`];
        break;
      }
    }

    const { user, privateKey } = spec.ssh;
    const onHost = deletedWith ? { deletedWith } : {};
    // A booting VM is waited for here, on the deployer, until its sshd answers. The SSH steps
    // after it then stop after a few dials: a failure there is a key, a user or a host key,
    // reported in seconds instead of a 10-minute timeout that fail2ban sees as an attack.
    const wait = waitForSsh(
      name,
      { host, port, user, seconds: seconds(settings.timeout), triggers: hostIdentity, dependsOn, ...onHost },
      this,
    );
    // The host key every SSH step pins: given, or taken at first contact; checked before them.
    const pin = pinHostKey(
      name,
      {
        host,
        port,
        ...(spec.ssh.hostKey === undefined ? {} : { configured: spec.ssh.hostKey }),
        configKey: keys.hostKey,
        hostIdentity,
        wait,
        ...onHost,
      },
      this,
    );
    const sshArgs = { host, port, user, privateKey, hostKey: pin.hostKey };
    this.sshHostKey = pin.hostKey;
    this.sshHostKeyFingerprint = pin.fingerprint;
    const ready: pulumi.Resource[] = [wait];
    // A rotated public key reaches the running VM here: the cloud's copy is read only at launch.
    if (target.kind !== "existing" && target.publicKey !== undefined) {
      ready.push(
        authorizeKey(
          name,
          {
            connection: sshConnection(sshArgs, settings),
            publicKey: target.publicKey,
            triggers: hostIdentity,
            dependsOn: [wait],
            timeout: settings.timeout,
            ...onHost,
          },
          this,
        ),
      );
    }
    const { confirm } = hardenHost(
      name,
      {
        connection: sshArgs,
        policy,
        settings,
        hostIdentity,
        ...onHost,
        dependsOn: [...dependsOn, ...ready],
      },
      this,
    );
    this.sshCommand = pulumi.interpolate`ssh -p ${port} ${user}@${host}`;
    // pulumi-command's own errors ("unable to authenticate", "host key mismatch") name none of it.
    pulumi
      .all([user, host, port, pin.description])
      .apply(([u, h, p, key]) =>
        pulumi.log.info(`openclaw: the SSH steps log in as ${u} at ${h} port ${p}, and accept ${key}`, this),
      );
    this.admittedTraffic = pulumi.output(renderAdmittedTable(policy, settings.docker));
    this.hostFirewallStatus = confirm.stdout;

    const openclaw = spec.openclaw;
    if (openclaw) {
      const steps = installOpenClaw(
        name,
        {
          connection: sshConnection(sshArgs, settings),
          spec: openclaw,
          secrets: spec.openclawSecrets ?? {},
          timeout: settings.timeout,
          hardeningStateDir: settings.stateDir,
          hostIdentity,
          confirm,
          ...onHost,
        },
        this,
      );
      if (openclaw.https) {
        installProxy(
          name,
          {
            connection: sshConnection(sshArgs, settings),
            https: openclaw.https,
            gatewayPort: openclaw.port,
            timeout: settings.timeout,
            hostIdentity,
            confirm,
            openclaw: steps.install,
            ...onHost,
          },
          this,
        );
      }
      // Loopback: reached through the tunnel, whose local end is the same port. So is an
      // exposed gateway on a host known by an IPv6 address: OpenClaw listens on IPv4 only.
      const tunnelEnd = `http://127.0.0.1:${openclaw.port}`;
      this.gatewayUrl = openclaw.https
        ? pulumi.output(`https://${openclaw.https.domain}/`)
        : openclaw.bind === "lan"
          ? this.publicIpv4.apply((ip) =>
              !ip || ip.includes(":") ? tunnelEnd : `http://${ip}:${openclaw.port}`,
            )
          : pulumi.output(tunnelEnd);
      this.sshTunnelCommand = pulumi.interpolate`ssh -N -L ${openclaw.port}:127.0.0.1:${openclaw.port} -p ${port} ${user}@${host}`;
      this.gatewayToken = steps.gatewayToken;
      this.openclawVersion = steps.version;
    } else {
      this.gatewayUrl = pulumi.output(undefined);
      this.sshTunnelCommand = pulumi.output(undefined);
      this.gatewayToken = pulumi.output(undefined);
      this.openclawVersion = pulumi.output(undefined);
    }

    this.registerOutputs({
      publicIpv4: this.publicIpv4,
      publicIpv6: this.publicIpv6,
      sshCommand: this.sshCommand,
      sshHostKey: this.sshHostKey,
      sshHostKeyFingerprint: this.sshHostKeyFingerprint,
      cloudFirewallId: this.cloudFirewallId,
      firewallLayers: this.firewallLayers,
      admittedTraffic: this.admittedTraffic,
      hostFirewallStatus: this.hostFirewallStatus,
      gatewayUrl: this.gatewayUrl,
      sshTunnelCommand: this.sshTunnelCommand,
      gatewayToken: this.gatewayToken,
      openclawVersion: this.openclawVersion,
    });
  }
}

const policies = new WeakMap<OpenClawServer, FirewallPolicy>();

/** Checks an Output arg when it resolves: a bad value fails the deployment with its key. */
const checkWhenKnown: ParseOptions["defer"] = (value, key, check) =>
  (pulumi.output(value as pulumi.Input<string>) as pulumi.Output<unknown>).apply((v) => {
    const f = new Findings();
    check(f, key, v);
    f.throwIfFailed();
    return v;
  });
