import { Findings, type PolicyProblem, type PolicyWarning } from "../policy/errors";
import type { RouterConfig } from "../policy/nat";
import { closestName } from "../policy/suggest";
import type { FirewallPolicy } from "../policy/types";
import type { HostSettings } from "../hardening/options";
import { OPENCLAW_SECRETS, type OpenClawSecretName } from "../openclaw/parse";
import type { OpenClawSpec } from "../openclaw/types";
import { type ArgKeys, TARGET_KINDS, parseServerArgs, stackKeys } from "../serverArgs";

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
  /** `openclaw:openclaw`, validated; undefined when OpenClaw is not installed. */
  readonly openclaw?: OpenClawSpec;
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
  "openclaw",
  ...OPENCLAW_SECRETS,
] as const;

/** The stack's secrets for OpenClaw, read with getSecret: `openclaw:gatewayToken` and the API keys. */
export type StackOpenClawSecrets = { readonly [K in OpenClawSecretName]?: unknown };

/** A stack's config as `OpenClawServer`'s args, and the keys its errors name. */
export interface StackArgs {
  /** The args, not checked here: `OpenClawServer` (or `parseServerArgs`) checks them. */
  readonly args: Record<string, unknown>;
  /** The stack's keys (`openclaw:sshUser`), for the errors. */
  readonly keys: ArgKeys;
  /** What no arg holds: unknown `openclaw:` keys, an `openclaw:target` that names no target. */
  readonly problems: readonly PolicyProblem[];
}

/**
 * Maps a stack's config to the component's args, without checking the values: the component
 * checks them, under the stack's keys, so `npm run plan` (through `parseStackSettings`) and
 * `pulumi up` (through `runStack`) refuse exactly the same input with the same words. Only what
 * has no place in the args is found here. `privateKey` is the secret, which only `pulumi up`
 * can read.
 */
export function mapStackConfig(
  read: ConfigReader,
  privateKey: unknown,
  openclawSecrets: StackOpenClawSecrets = {},
): StackArgs {
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
  const args: Record<string, unknown> = { firewall: read("firewall") };
  const kind = read("target");
  if (typeof kind === "string" && (TARGET_KINDS as readonly string[]).includes(kind)) {
    // The settings of the target chosen; null when missing, which the component reports.
    const settings = read(kind) ?? null;
    // A stack reaches an existing host at port 22 unless it says otherwise; the component's
    // own default is the policy's SSH port, which differs behind a port-forward.
    args[kind] =
      kind === "existing" && isRecord(settings) && settings["sshPort"] === undefined
        ? { ...settings, sshPort: 22 }
        : settings;
  } else {
    f.fail(k("target"), kind, "is not a known target", TARGET_KINDS.join(", "));
  }
  const user = read("sshUser");
  const hostKey = read("sshHostKey");
  args["ssh"] = {
    ...(user === undefined ? {} : { user }),
    privateKey,
    ...(hostKey === undefined ? {} : { hostKey }),
  };
  const hardening = read("hardening");
  if (hardening !== undefined) args["hardening"] = hardening;
  const openclaw = mapOpenClaw(f, read("openclaw"), openclawSecrets);
  if (openclaw !== undefined) args["openclaw"] = openclaw;
  return { args, keys: stackKeys(NAMESPACE), problems: f.problems };
}

/**
 * `openclaw:openclaw` with the secrets from their own keys. A secret written inside the block
 * would sit in the stack file in plain text: refused, and not shown.
 */
function mapOpenClaw(f: Findings, block: unknown, secrets: StackOpenClawSecrets): unknown {
  const given = Object.fromEntries(
    OPENCLAW_SECRETS.filter((n) => secrets[n] !== undefined).map((n) => [n, secrets[n]]),
  );
  if (block === undefined) return Object.keys(given).length > 0 ? given : undefined;
  if (!isRecord(block)) return block;
  const rest = { ...block };
  for (const name of OPENCLAW_SECRETS) {
    if (rest[name] === undefined) continue;
    delete rest[name];
    f.fail(
      `${NAMESPACE}:openclaw.${name}`,
      "(not shown)",
      "is a secret, which a stack file keeps encrypted under a key of its own",
      `pulumi config set --secret ${NAMESPACE}:${name}, and remove it from ${NAMESPACE}:openclaw`,
    );
  }
  return { ...rest, ...given };
}

/** Stands in for the private key offline, where the stack file holds it encrypted. */
const OFFLINE_PRIVATE_KEY = "(the private key, not read offline)";

/**
 * A stack's settings for the offline tools (`npm run plan`, `npm run blocks`): its config mapped
 * as `pulumi up` maps it, validated by the component's own parse. Throws `PolicyError` with
 * every problem found, before anything is deployed.
 */
export function parseStackSettings(read: ConfigReader): StackSettings {
  const { args, keys, problems } = mapStackConfig(read, OFFLINE_PRIVATE_KEY);
  const spec = parseServerArgs(args, keys, { problems });
  // A stack file holds plain values only, so the validated target is one too.
  return {
    target: spec.target as TargetSettings,
    sshUser: spec.ssh.user as string,
    ...(spec.ssh.hostKey === undefined ? {} : { sshHostKey: spec.ssh.hostKey as string }),
    policy: spec.policy,
    warnings: spec.warnings,
    hardening: spec.hardening,
    ...(spec.openclaw ? { openclaw: spec.openclaw } : {}),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
