import type * as pulumi from "@pulumi/pulumi";
import { isPrivateAddress, parseCidr } from "./policy/cidr";
import { Findings, PolicyError, type PolicyProblem, type PolicyWarning } from "./policy/errors";
import { type RouterConfig, natWarnings, parseRouter } from "./policy/nat";
import { parsePolicy } from "./policy/parse";
import { parsePortRange } from "./policy/ports";
import type { FirewallPolicy, ServiceConfig } from "./policy/types";
import { HOST_KEY_ACCEPTED, parseHostKey } from "./ssh/hostKey";
import { type HostSettings, parseHardeningOptions } from "./hardening/options";
import { quotaProblems } from "./cloud/quotas";
import { closestName } from "./policy/suggest";
import { type OpenClawSecretInputs, type OpenClawSecretName, parseOpenClaw } from "./openclaw/parse";
import type { OpenClawSpec } from "./openclaw/types";
import { routerWarning, strayHttpsWarning, withAcmeHttp } from "./openclaw/httpsPolicy";
import { HTTPS_SERVICE } from "./openclaw/types";

/**
 * Where each part of the server's config lives, so that every problem names the key its author
 * wrote: `edge.ssh.user` for a component named `edge`, `openclaw:sshUser` in a stack file.
 */
export interface ArgKeys {
  readonly firewall: string;
  /** Where the choice of target is made: `edge` (one of its blocks), `openclaw:target`. */
  readonly kind: string;
  /** The object holding the target's settings: `edge.aws`, `openclaw:aws`. */
  readonly target: (kind: TargetKind) => string;
  readonly ssh: string;
  readonly user: string;
  readonly hostKey: string;
  readonly privateKey: string;
  readonly hardening: string;
  /** The `openclaw` block: `edge.openclaw`, `openclaw:openclaw`. */
  readonly openclaw: string;
  /** Its secrets, each under its own key in a stack: `edge.openclaw.gatewayToken`, `openclaw:gatewayToken`. */
  readonly openclawSecret: (name: OpenClawSecretName) => string;
}

/** The keys of an `OpenClawServer` named `name`, as a program that constructs it writes them. */
export function componentKeys(name: string): ArgKeys {
  return {
    firewall: `${name}.firewall`,
    kind: name,
    target: (kind) => `${name}.${kind}`,
    ssh: `${name}.ssh`,
    user: `${name}.ssh.user`,
    hostKey: `${name}.ssh.hostKey`,
    privateKey: `${name}.ssh.privateKey`,
    hardening: `${name}.hardening`,
    openclaw: `${name}.openclaw`,
    openclawSecret: (secret) => `${name}.openclaw.${secret}`,
  };
}

/** The same parts as a stack file names them (`openclaw:` keys), for the stack program. */
export function stackKeys(namespace: string): ArgKeys {
  const k = (key: string) => `${namespace}:${key}`;
  return {
    firewall: k("firewall"),
    kind: k("target"),
    target: (kind) => k(kind),
    ssh: k("sshPrivateKey"),
    user: k("sshUser"),
    hostKey: k("sshHostKey"),
    privateKey: k("sshPrivateKey"),
    hardening: k("hardening"),
    openclaw: k("openclaw"),
    openclawSecret: (secret) => k(secret),
  };
}

export const TARGET_KINDS = ["aws", "hcloud", "existing"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** The login user a fresh image accepts the deploy key for; existing hosts have none. */
export const DEFAULT_USER: Record<TargetKind, string | undefined> = {
  aws: "ubuntu",
  hcloud: "root",
  existing: undefined,
};

/**
 * Checks one value once it is known. Values given as Outputs or Promises are not known while the
 * program runs; `ParseOptions.defer` runs the same check when they resolve.
 */
export type ValueCheck = (f: Findings, key: string, value: unknown) => void;

export interface ParseOptions {
  /**
   * Wraps a value that is not known yet (an Output or a Promise) so that `check` runs when it
   * resolves, failing the deployment with the same keyed error; returns what to use instead.
   * Without it, such values are passed through unchecked.
   */
  readonly defer?: (value: unknown, key: string, check: ValueCheck) => unknown;
  /**
   * Problems found before the args were made, reported with the args' own: a stack file's
   * unknown keys, its `openclaw:target`, found while the stack program mapped it to args.
   */
  readonly problems?: readonly PolicyProblem[];
}

export interface ValidAwsTarget {
  readonly kind: "aws";
  readonly instanceType: pulumi.Input<string>;
  readonly publicKey: pulumi.Input<string>;
  readonly subnetId?: pulumi.Input<string>;
  readonly vpcId?: pulumi.Input<string>;
  readonly ami?: pulumi.Input<string>;
  readonly rootVolumeGiB: pulumi.Input<number>;
}

export interface ValidHcloudTarget {
  readonly kind: "hcloud";
  readonly serverType: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  /** At least one: `sshKey` names a key already in the project; `publicKey` alone creates one. */
  readonly publicKey?: pulumi.Input<string>;
  readonly sshKey?: pulumi.Input<string>;
}

export interface ValidExistingTarget {
  readonly kind: "existing";
  readonly address: pulumi.Input<string>;
  readonly sshPort: pulumi.Input<number>;
  readonly router?: RouterConfig;
}

export type ValidTarget = ValidAwsTarget | ValidHcloudTarget | ValidExistingTarget;

/** Everything `OpenClawServer` needs, validated; nothing here has reached a cloud or a host. */
export interface ServerSpec {
  /**
   * The policy every layer is rendered from: the declared one, plus what `openclaw.https` adds
   * (`openclaw-acme-http`, 80/tcp from anywhere).
   */
  readonly policy: FirewallPolicy;
  /** The policy's warnings, and what the NAT router does to it. */
  readonly warnings: readonly PolicyWarning[];
  readonly target: ValidTarget;
  readonly ssh: {
    readonly user: pulumi.Input<string>;
    readonly privateKey: pulumi.Input<string>;
    readonly hostKey?: pulumi.Input<string>;
  };
  readonly hardening: HostSettings;
  /** OpenClaw on the server; undefined when it is not installed. */
  readonly openclaw?: OpenClawSpec;
  /** Its secrets as given (checked, never shown); with `openclaw` only. */
  readonly openclawSecrets?: OpenClawSecretInputs;
}

const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
export const PUBLIC_KEY_PATTERN =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\n\r'"`$;]*)?$/;
const PUBLIC_KEY_ACCEPTED = "an OpenSSH public key line, e.g. the contents of ~/.ssh/id_ed25519.pub";

export const checkUser: ValueCheck = (f, key, v) => {
  if (typeof v !== "string" || !USER_PATTERN.test(v))
    f.fail(key, v, "is not a valid login name", "a Linux user name such as ubuntu or root");
};

/** A host key the SSH steps can pin; what is shown of a bad one never includes a private key. */
export const checkHostKey: ValueCheck = (f, key, v) => {
  const parsed = parseHostKey(v);
  if (!parsed.ok) f.fail(key, parsed.shown, parsed.problem, HOST_KEY_ACCEPTED);
};

const pattern =
  (re: RegExp, accepted: string): ValueCheck =>
  (f, key, v) => {
    if (typeof v !== "string" || !re.test(v))
      f.fail(key, v, v === undefined ? "is required" : "is not valid", accepted);
  };

export const checkPublicKey = pattern(PUBLIC_KEY_PATTERN, PUBLIC_KEY_ACCEPTED);

const checkVolume: ValueCheck = (f, key, v) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 8 || v > 16384)
    f.fail(key, v, "is not a valid volume size", "a whole number of GiB from 8 to 16384");
};

const checkHostAddress: ValueCheck = (f, key, v) => {
  const parsed = parseCidr(v);
  const ok =
    parsed.ok && parsed.cidr.prefix === (parsed.cidr.family === 4 ? 32 : 128) && !String(v).includes("/");
  if (!ok)
    f.fail(
      key,
      v,
      "is not a host address",
      "the IPv4 or IPv6 address the host is reached at, e.g. 192.168.1.100",
    );
};

const checkPort: ValueCheck = (f, key, v) => {
  const port = parsePortRange(v);
  if (!port.ok || port.range.from !== port.range.to)
    f.fail(key, v, "is not a port", "a single port from 1 to 65535, e.g. 22");
};

/** The settings of each target kind: how each is checked, and whether it must be given. */
const TARGET_FIELDS: Record<TargetKind, Record<string, { check: ValueCheck; required: boolean }>> = {
  aws: {
    instanceType: {
      check: pattern(/^[a-z0-9]+\.[a-z0-9]+$/, "an EC2 instance type, e.g. t3.small"),
      required: true,
    },
    publicKey: { check: checkPublicKey, required: true },
    subnetId: { check: pattern(/^subnet-[0-9a-f]+$/, "a subnet id, e.g. subnet-0123abcd"), required: false },
    vpcId: { check: pattern(/^vpc-[0-9a-f]+$/, "a VPC id, e.g. vpc-0123abcd"), required: false },
    ami: {
      check: pattern(/^ami-[0-9a-f]+$/, "an AMI id, e.g. ami-0123abcd, or leave unset for Ubuntu 24.04"),
      required: false,
    },
    rootVolumeGiB: { check: checkVolume, required: false },
  },
  hcloud: {
    serverType: {
      check: pattern(/^[a-z0-9-]+$/, "a Hetzner server type, e.g. cx23, cpx22 or cax11"),
      required: true,
    },
    location: {
      check: pattern(/^[a-z0-9-]+$/, "a Hetzner location, e.g. fsn1, nbg1, hel1 or ash"),
      required: true,
    },
    image: { check: pattern(/^[a-z0-9.-]+$/, "a Hetzner image name, e.g. ubuntu-24.04"), required: false },
    publicKey: { check: checkPublicKey, required: false },
    sshKey: {
      check: pattern(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
        "the name or numeric id of an SSH key already in the Hetzner project",
      ),
      required: false,
    },
  },
  existing: {
    address: { check: checkHostAddress, required: true },
    sshPort: { check: checkPort, required: false },
    router: { check: () => undefined, required: false },
  },
};

/** An Output or a Promise: a value this program cannot see until the deployment resolves it. */
export function isDeferred(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    ((value as { __pulumiOutput?: unknown }).__pulumiOutput === true ||
      typeof (value as { then?: unknown }).then === "function")
  );
}

/**
 * Validates an `OpenClawServer`'s args (or a stack's config mapped to them, with `stackKeys`)
 * and returns the one validated value the component builds from. Pure: no Pulumi runtime, no
 * I/O. Throws `PolicyError` listing every problem, each named by its key under `keys`.
 */
export function parseServerArgs(raw: unknown, keys: ArgKeys, options: ParseOptions = {}): ServerSpec {
  const f = new Findings();
  f.problems.push(...(options.problems ?? []));
  const args = (isRecord(raw) ? raw : {}) as Record<string, unknown>;
  const later = (value: unknown, key: string, check: ValueCheck): unknown => {
    if (!isDeferred(value)) {
      check(f, key, value);
      return value;
    }
    return options.defer ? options.defer(value, key, check) : value;
  };

  // The target first: which checks apply to the rest depends on its kind. One optional block
  // per kind (the multi-language schema has no unions), exactly one of them set.
  const given = TARGET_KINDS.filter((k) => args[k] !== undefined);
  if (given.length !== 1) {
    // A stack's mapping has already said what is wrong with its openclaw:target.
    if (!f.problems.some((p) => p.key === keys.kind)) {
      f.fail(
        keys.kind,
        given.length === 0 ? undefined : given.join(", "),
        given.length === 0 ? "sets no target" : "sets more than one target",
        `exactly one of ${TARGET_KINDS.map((k) => keys.target(k)).join(", ")}`,
      );
    }
    throw new PolicyError(f.problems);
  }
  const kind = given[0]!;
  const rawTarget = args[kind];
  let target: ValidTarget | undefined;
  if (!isRecord(rawTarget)) {
    // The rest is still checked, so that every problem is reported at once.
    f.fail(
      keys.target(kind),
      isDeferred(rawTarget) ? "(an Output or a Promise)" : (rawTarget ?? undefined),
      rawTarget === null ? `is required when the target is ${kind}` : "is not an object",
      `an object with the ${kind} settings (see docs/configuration.md)`,
    );
  } else {
    target = parseTarget(f, keys, kind, rawTarget, later);
  }

  const rawFirewall = args["firewall"];
  let parsed: { policy: FirewallPolicy; warnings: readonly PolicyWarning[] } | undefined;
  if (isDeferred(rawFirewall)) {
    // The cloud firewall's rules are one resource each, named from their content: resources
    // cannot be registered from inside an Output.
    f.fail(
      keys.firewall,
      "(an Output or a Promise)",
      "is not known while the program runs",
      "a plain object: the firewall policy itself, not an Output or a Promise",
    );
  } else {
    const address = target?.kind === "existing" ? target.address : undefined;
    parsed = collect(f, () =>
      parsePolicy(rawFirewall, {
        key: keys.firewall,
        // A private address known now means no public one; an Output might be either.
        hostHasPublicAddress: !(typeof address === "string" && isPrivateAddress(address)),
      }),
    );
  }
  const warnings: PolicyWarning[] = [...(parsed?.warnings ?? [])];
  if (parsed && target) {
    if (target.kind !== "existing") {
      const sshPort = parsed.policy.ssh.ports[0]!.from;
      if (sshPort !== 22) {
        f.fail(
          `${keys.firewall}.ssh.port`,
          sshPort,
          `is not the port a new ${target.kind} VM's sshd listens on`,
          "22 for cloud targets (sshd is not moved to another port)",
        );
      }
    } else if (target.router) {
      const services = (rawFirewall as { services?: ServiceConfig[] }).services ?? [];
      warnings.push(...natWarnings(parsed.policy, target.router, keys.firewall, services));
    }
  }

  const ssh = args["ssh"];
  let user: unknown;
  let privateKey: unknown;
  let hostKey: unknown;
  if (!isRecord(ssh)) {
    f.fail(
      keys.ssh,
      isDeferred(ssh) ? "(an Output or a Promise)" : ssh,
      ssh === undefined ? "is required (SSH is how the host is hardened)" : "is not an object",
      "an object with privateKey, and user and hostKey where needed",
    );
  } else {
    const known = ["user", "privateKey", "hostKey"];
    for (const name of Object.keys(ssh)) {
      if (known.includes(name)) continue;
      // Not its value: a misspelt privateKey holds the private key.
      const guess = closestName(name, known);
      f.fail(
        `${keys.ssh}.${name}`,
        name,
        guess ? `is not a known key; did you mean ${guess}?` : "is not a known key",
        `one of ${known.join(", ")}`,
      );
    }
    user = ssh["user"] ?? DEFAULT_USER[kind];
    if (user === undefined) {
      f.fail(
        keys.user,
        undefined,
        "is required for an existing host (there is no image default)",
        "the login user that accepts the deploy key, e.g. admin",
      );
    } else {
      user = later(user, keys.user, checkUser);
    }
    privateKey = ssh["privateKey"];
    // Never echo the key: a problem shows only whether it is missing or of the wrong type.
    if (privateKey === undefined || privateKey === null || privateKey === "") {
      f.fail(
        keys.privateKey,
        privateKey ?? undefined,
        "is required",
        "the deploy key's private half, as a secret",
      );
    } else if (typeof privateKey !== "string" && !isDeferred(privateKey)) {
      f.fail(
        keys.privateKey,
        `(a ${typeof privateKey})`,
        "is not text",
        "the private key, as a string or a secret Output",
      );
    }
    hostKey = ssh["hostKey"] === undefined ? undefined : later(ssh["hostKey"], keys.hostKey, checkHostKey);
    if (hostKey === undefined) {
      f.warn(
        keys.hostKey,
        "is not set: the first contact trusts the key the host presents (trust on first use), and every " +
          "later SSH step accepts that key alone. A machine posing as the host at that first contact " +
          "would be trusted, and sent the secrets. To rule that out, set it to the host's key, checked " +
          "on the host's own console or the cloud's (the sshHostKey output holds the key first seen; a first " +
          "run with OpenClaw off sends no secret).",
      );
    }
  }

  const hardening = collect(f, () => parseHardeningOptions(args["hardening"], keys.hardening));

  const openclaw = parseOpenClaw(
    f,
    args["openclaw"],
    { block: keys.openclaw, secret: keys.openclawSecret, firewall: keys.firewall },
    {
      cloud: kind !== "existing",
      policy: parsed?.policy,
      rawFirewall,
      later,
      isDeferred,
    },
  );
  warnings.push(...f.warnings);
  if (openclaw?.spec.https && target?.kind === "existing" && target.router) {
    const w = routerWarning(target.router.forwards, `${keys.target("existing")}.router.forwards`);
    if (w) warnings.push(w);
  }
  if (parsed && !openclaw?.spec.https) {
    const services = (rawFirewall as { services?: unknown }).services;
    const i = Array.isArray(services)
      ? services.findIndex((s) => isRecord(s) && s["name"] === HTTPS_SERVICE)
      : -1;
    const w = strayHttpsWarning(parsed.policy, `${keys.firewall}.services[${i}]`);
    if (w) warnings.push(w);
  }
  // Derived once the block is checked against the declared policy; the quotas count what the
  // cloud will really hold.
  const policy = parsed && withAcmeHttp(parsed.policy, openclaw?.spec.https);
  if (policy && target && target.kind !== "existing") {
    f.problems.push(...quotaProblems(policy, target.kind, keys.firewall));
  }

  f.throwIfFailed();
  return {
    policy: policy!,
    warnings,
    // Unset, the deployer reaches an existing host's SSH at the policy's port.
    target:
      target!.kind === "existing" && target!.sshPort === undefined
        ? { ...target!, sshPort: parsed!.policy.ssh.ports[0]!.from }
        : target!,
    ssh: {
      user: user as pulumi.Input<string>,
      privateKey: privateKey as pulumi.Input<string>,
      ...(hostKey === undefined ? {} : { hostKey: hostKey as pulumi.Input<string> }),
    },
    hardening: hardening!,
    ...(openclaw ? { openclaw: openclaw.spec, openclawSecrets: openclaw.secrets } : {}),
  };
}

/**
 * Validates a target's settings under `keys.target(kind)`: the one set of rules for the
 * component's `aws`, `hcloud` and `existing` blocks, which a stack's `openclaw:aws`,
 * `openclaw:hcloud` and `openclaw:existing` are mapped to.
 * Values not known yet go to `later`; by default every value is checked now.
 */
export function parseTarget(
  f: Findings,
  keys: ArgKeys,
  kind: TargetKind,
  raw: Record<string, unknown>,
  later: (value: unknown, key: string, check: ValueCheck) => unknown = (value, key, check) => {
    check(f, key, value);
    return value;
  },
): ValidTarget | undefined {
  const key = keys.target(kind);
  const fields = TARGET_FIELDS[kind];
  for (const name of Object.keys(raw)) {
    if (!(name in fields))
      f.fail(`${key}.${name}`, raw[name], "is not a known key", `one of ${Object.keys(fields).join(", ")}`);
  }
  const before = f.problems.length;
  const values: Record<string, unknown> = {};
  for (const [name, { check, required }] of Object.entries(fields)) {
    const v = raw[name];
    if (v === undefined) {
      if (required) check(f, `${key}.${name}`, v);
      continue;
    }
    if (name !== "router") values[name] = later(v, `${key}.${name}`, check);
  }
  switch (kind) {
    case "aws": {
      if (raw["subnetId"] !== undefined && raw["vpcId"] === undefined) {
        f.fail(
          `${key}.vpcId`,
          undefined,
          "is required with subnetId (the security group must be in the subnet's VPC)",
          "the subnet's VPC id",
        );
      }
      if (f.problems.length > before) return undefined;
      return { ...values, kind, rootVolumeGiB: values["rootVolumeGiB"] ?? 20 } as ValidAwsTarget;
    }
    case "hcloud": {
      if (raw["publicKey"] === undefined && raw["sshKey"] === undefined) {
        f.fail(
          `${key}.publicKey`,
          undefined,
          "is required unless sshKey is given",
          "publicKey (a key this stack gives Hetzner), or sshKey (the name or id of one already in the project)",
        );
      }
      if (f.problems.length > before) return undefined;
      return { ...values, kind, image: values["image"] ?? "ubuntu-24.04" } as ValidHcloudTarget;
    }
    case "existing": {
      if (isDeferred(raw["router"])) {
        f.fail(
          `${key}.router`,
          "(an Output or a Promise)",
          "is not known while the program runs",
          "a plain object: what the router does decides the warnings before anything is deployed",
        );
      }
      const router = isDeferred(raw["router"]) ? undefined : parseRouter(f, `${key}.router`, raw["router"]);
      if (f.problems.length > before) return undefined;
      return {
        kind,
        address: values["address"] as pulumi.Input<string>,
        sshPort: values["sshPort"] as pulumi.Input<number>,
        ...(router ? { router } : {}),
      };
    }
  }
}

/** Runs a parser that throws `PolicyError`, keeping its problems with the others. */
function collect<T>(f: Findings, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    f.problems.push(...e.problems);
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isDeferred(v);
}
