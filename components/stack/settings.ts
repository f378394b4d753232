import { isPrivateAddress } from "../policy/cidr";
import { Findings, PolicyError, type PolicyWarning } from "../policy/errors";
import { type RouterConfig, natWarnings } from "../policy/nat";
import { type ParsedPolicy, parsePolicy } from "../policy/parse";
import { closestName } from "../policy/suggest";
import type { FirewallPolicy } from "../policy/types";
import { type HostSettings, parseHardeningOptions } from "../host/options";
import { quotaProblems } from "../render/quotas";
import { parseTarget as parseTargetArgs, stackKeys } from "../serverArgs";

/** The config namespace: the project name in Pulumi.yaml. */
export const NAMESPACE = "openclaw";

export interface AwsTargetSettings {
  readonly kind: "aws";
  readonly instanceType: string;
  readonly publicKey: string;
  readonly subnetId?: string;
  readonly vpcId?: string;
  readonly ami?: string;
  readonly rootVolumeGiB: number;
}

export interface HcloudTargetSettings {
  readonly kind: "hcloud";
  readonly serverType: string;
  readonly location: string;
  readonly image: string;
  /** At least one: a key for the stack to give Hetzner (and the host), or one already in the project. */
  readonly publicKey?: string;
  readonly sshKey?: string;
}

export interface ExistingTargetSettings {
  readonly kind: "existing";
  /** Address the deployer reaches the host at (a LAN address for the home server). */
  readonly address: string;
  /** Port the deployer reaches SSH at; differs from firewall.ssh.port behind a port-forward. */
  readonly sshPort: number;
  /** The NAT router in front of the host, when declared: what it forwards, whether it masquerades. */
  readonly router?: RouterConfig;
}

export type TargetSettings = AwsTargetSettings | HcloudTargetSettings | ExistingTargetSettings;

/** Everything a stack declares except the secrets, validated. */
export interface StackSettings {
  readonly target: TargetSettings;
  readonly sshUser: string;
  readonly sshHostKey?: string;
  readonly policy: FirewallPolicy;
  readonly warnings: readonly PolicyWarning[];
  /** `openclaw:hardening`, with defaults filled in. */
  readonly hardening: HostSettings;
}

/** Reads a config value by its key within the namespace (`target`, `firewall`, ...). */
export interface ConfigReader {
  (key: string): unknown;
  /** Every key set in the namespace, where the source can list them: unknown ones are refused. */
  readonly keys?: readonly string[];
}

/** Every key the namespace has (`openclaw:<key>`); anything else is a typo or a leftover. */
export const STACK_KEYS = [
  "target",
  "aws",
  "hcloud",
  "existing",
  "sshUser",
  "sshHostKey",
  "sshPrivateKey",
  "firewall",
  "hardening",
] as const;

const TARGETS = ["aws", "hcloud", "existing"] as const;
const DEFAULT_USER: Record<(typeof TARGETS)[number], string | undefined> = {
  aws: "ubuntu",
  hcloud: "root",
  existing: undefined,
};
const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * Validates a whole stack's settings. Shared by `npm run plan` (reading the YAML file) and the
 * Pulumi program (reading `pulumi.Config`), so both reject exactly the same input, before any
 * resource is registered. Throws `PolicyError` with every problem found.
 */
export function parseStackSettings(read: ConfigReader): StackSettings {
  const f = new Findings();
  const k = (key: string) => `${NAMESPACE}:${key}`;
  // A misspelt key would otherwise be dropped without a word: a host-key pin the operator
  // believes is set, say. The value is not shown: it may be a secret.
  for (const name of read.keys ?? []) {
    if ((STACK_KEYS as readonly string[]).includes(name)) continue;
    const guess = closestName(name, STACK_KEYS);
    f.fail(
      k(name),
      name,
      guess ? `is not a known key; did you mean ${k(guess)}?` : "is not a known key",
      `one of ${STACK_KEYS.map(k).join(", ")}`,
    );
  }

  const kind = read("target");
  if (typeof kind !== "string" || !(TARGETS as readonly string[]).includes(kind)) {
    f.fail(k("target"), kind, "is not a known target", TARGETS.join(", "));
    f.throwIfFailed();
  }
  const target = parseTarget(f, k, kind as TargetSettings["kind"], read(kind as string));

  const user = read("sshUser") ?? DEFAULT_USER[kind as TargetSettings["kind"]];
  if (typeof user !== "string" || !USER_PATTERN.test(user)) {
    f.fail(k("sshUser"), user, "is not a valid login name", "a Linux user name such as ubuntu or root");
  }
  const hostKey = read("sshHostKey");
  if (
    hostKey !== undefined &&
    (typeof hostKey !== "string" || !/^(ssh-|ecdsa-)[A-Za-z0-9-]+ [A-Za-z0-9+/=]+$/.test(hostKey))
  ) {
    f.fail(
      k("sshHostKey"),
      hostKey,
      "is not a public host key",
      'the key line "TYPE BASE64", e.g. from ssh-keyscan',
    );
  }

  let hardening: HostSettings | undefined;
  try {
    hardening = parseHardeningOptions(read("hardening"), k("hardening"));
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    f.problems.push(...e.problems);
  }

  let parsed: ParsedPolicy | undefined;
  try {
    parsed = parsePolicy(read("firewall"), {
      key: k("firewall"),
      hostHasPublicAddress: target?.kind !== "existing" || !isPrivateAddress(target.address),
    });
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    f.problems.push(...e.problems);
  }
  if (parsed && target && target.kind !== "existing") {
    f.problems.push(...quotaProblems(parsed.policy, target.kind, k("firewall")));
    const sshPort = parsed.policy.ssh.ports[0]!.from;
    if (sshPort !== 22) {
      f.fail(
        k("firewall.ssh.port"),
        sshPort,
        `is not the port a new ${target.kind} VM's sshd listens on`,
        "22 for cloud targets (sshd is not moved to another port)",
      );
    }
  }
  f.throwIfFailed();
  return {
    target: target!,
    sshUser: user as string,
    ...(hostKey === undefined ? {} : { sshHostKey: hostKey as string }),
    policy: parsed!.policy,
    warnings: [
      ...parsed!.warnings,
      ...(target?.kind === "existing" && target.router
        ? natWarnings(
            parsed!.policy,
            target.router,
            k("firewall"),
            (read("firewall") as { services: { name?: unknown }[] }).services,
          )
        : []),
    ],
    hardening: hardening!,
  };
}

function parseTarget(
  f: Findings,
  k: (key: string) => string,
  kind: TargetSettings["kind"],
  raw: unknown,
): TargetSettings | undefined {
  const key = k(kind);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    f.fail(
      key,
      raw,
      `is required when target is ${kind}`,
      `an object with the ${kind} settings (see README)`,
    );
    return undefined;
  }
  // The target's kind is openclaw:target; within the component's target object it is allowed.
  if ("kind" in raw)
    f.fail(
      `${key}.kind`,
      (raw as { kind: unknown }).kind,
      "is not a known key",
      "set the target in openclaw:target",
    );
  // The component's rules, with the stack's keys: a stack holds plain values only.
  const settings = Object.fromEntries(Object.entries(raw).filter(([name]) => name !== "kind"));
  const target = parseTargetArgs(f, stackKeys(NAMESPACE), kind, settings);
  if (target?.kind === "existing") return { ...target, sshPort: target.sshPort ?? 22 } as TargetSettings;
  return target as TargetSettings | undefined;
}
