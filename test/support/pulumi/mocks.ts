// Pulumi mocks that record every resource registration and invoke, the way Pulumi's own
// libraries test components: exact type, name, parent and inputs, with no engine or cloud.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** `type::name` of the parent, or undefined for a top-level resource. */
  readonly parent?: string;
  /** The options that decide how a change is applied, as the component set them. */
  readonly options?: RecordedOptions;
}

export interface RecordedOptions {
  readonly ignoreChanges?: string[];
  readonly deleteBeforeReplace?: boolean;
  /** Names of the resources in `dependsOn`. */
  readonly dependsOn: string[];
  /**
   * Inputs that hold an Output: unknown in a preview whenever the resource they come from is
   * being replaced, where plain values are known.
   */
  readonly outputInputs: string[];
  /** The name of the resource in `deletedWith`. */
  readonly deletedWith?: string;
  readonly customTimeouts?: pulumi.CustomTimeouts;
}

function holdsOutput(value: unknown): boolean {
  if (pulumi.Output.isInstance(value)) return true;
  if (Array.isArray(value)) return value.some(holdsOutput);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsOutput);
  return false;
}

export const registrations: Registration[] = [];
export const invokes: { token: string; inputs: Record<string, unknown> }[] = [];
const parents = new Map<string, string>();
const options = new Map<string, RecordedOptions>();

/** Two real host keys (public halves only), for the mocked host. */
export const HOST_KEYS = {
  first: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJTiaHQXSl4i65h7hhJeN8ItUC+N03b07vch7uWlQRjA",
  firstFingerprint: "SHA256:3n8ttzqHrVECTLB8+1SbnQ9YKlqzmFN/dz9gsW0FkNQ",
  other: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF17lbBpFjW+hLbDWMr0GrgiXGFNNDCVo8mWUJUamk12",
  otherFingerprint: "SHA256:5Qy9UNu6TG7xNRfAoKYtgmeXLNMj0sqwktMK9H/IN+8",
} as const;

/** What the mocked lookups answer; a test changes them to play a later deployment. */
export const lookups = {
  ami: "ami-0123456789abcdef0",
  /** What the install step's last line reports, as the host read it back. */
  openclawVersion: "2026.9.6",
  /** What a generated gateway token resolves to. */
  generatedToken: "GeneratedTokenGeneratedTokenGeneratedToken000000",
  /** The host key the first contact recorded: what the stack's state holds. */
  recordedHostKey: HOST_KEYS.first as string,
  /** The host key the host presents now, to the deployer's check before the SSH steps. */
  presentedHostKey: HOST_KEYS.first as string,
};

/**
 * The deployer, for the host harness (deploy.ts): when set, local commands (resources and
 * `command:local:run` invokes) run for real there instead of answering from `lookups`.
 */
export const deployer: {
  resource?: (name: string, inputs: Record<string, unknown>) => Promise<Record<string, unknown>>;
  invoke?: (inputs: Record<string, unknown>) => Promise<Record<string, unknown>>;
} = {};

/**
 * Ids as the providers return them: Hetzner uses numbers (as strings), AWS prefixed ids. A
 * Hetzner id follows the resource's inputs, so a resource whose inputs changed (a new SSH key)
 * gets a new id, as a replacement would, and one deployed again unchanged keeps its id.
 */
function hcloudId(type: string, name: string, inputs: unknown): string {
  const digest = createHash("sha256")
    .update(`${type}::${name}::${JSON.stringify(inputs)}`)
    .digest();
  return String(1000 + (digest.readUInt32BE(0) % 9_000_000));
}

const mocks: pulumi.runtime.Mocks = {
  async newResource(args) {
    const key = `${args.type}::${args.name}`;
    const parent = parents.get(key);
    const recorded = options.get(key);
    registrations.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      ...(parent ? { parent } : {}),
      ...(recorded ? { options: recorded } : {}),
    });
    const state: Record<string, unknown> = { ...args.inputs };
    const id = args.type.startsWith("hcloud:")
      ? hcloudId(args.type, args.name, args.inputs)
      : `${args.name}-id`;
    switch (args.type) {
      case "aws:ec2/instance:Instance":
        Object.assign(state, { publicIp: "203.0.113.10", ipv6Addresses: ["2001:db8:10::10"] });
        break;
      case "aws:ec2/keyPair:KeyPair":
        // Unnamed, AWS names a pair when it is created: a new key means a new pair, a new name.
        state["keyName"] ??=
          `${args.name}-${createHash("sha256").update(String(args.inputs["publicKey"])).digest("hex").slice(0, 8)}`;
        break;
      case "hcloud:index/server:Server":
        Object.assign(state, { ipv4Address: "198.51.100.20", ipv6Address: "2001:db8:20::1" });
        break;
      case "command:local:Command":
        if (deployer.resource) {
          Object.assign(state, await deployer.resource(args.name, args.inputs));
          break;
        }
        // The first contact prints the host key it took.
        state["stdout"] = args.name.endsWith("-host-key")
          ? lookups.recordedHostKey
          : `stdout of ${args.name}`;
        break;
      case "command:remote:Command":
        state["stdout"] = `stdout of ${args.name}`;
        // The install step ends with the version the host runs.
        if (args.name.endsWith("-openclaw"))
          state["stdout"] += `\nopenclaw-version: ${lookups.openclawVersion}`;
        break;
      case "random:index/randomPassword:RandomPassword":
        state["result"] = lookups.generatedToken;
        break;
    }
    return { id, state };
  },
  async call(args) {
    invokes.push({ token: args.token, inputs: args.inputs });
    if (args.token === "aws:ec2/getAmi:getAmi") return { id: lookups.ami, ...args.inputs };
    if (args.token === "command:local:run") {
      if (deployer.invoke) return deployer.invoke(args.inputs);
      // The deployer's check reads the key the host presents now.
      return { ...args.inputs, stdout: lookups.presentedHostKey, stderr: "" };
    }
    return args.inputs;
  },
};
pulumi.runtime.setMocks(mocks, "openclaw", "test", false);

/** Plays a preview (`pulumi preview`, or `pulumi up`'s own) from now on, or a deployment again. */
export function setPreview(preview: boolean): void {
  pulumi.runtime.setMocks(mocks, "openclaw", "test", preview);
}

type Named = pulumi.Resource & { __name?: string; __pulumiType?: string };

/**
 * Pass as `transformations` on the component: they see every child's options before it is
 * registered, the only place its parent and options are visible under mocks.
 */
export const recordParents: pulumi.ResourceTransformation = (args) => {
  const key = `${args.type}::${args.name}`;
  const parent = args.opts.parent as Named | undefined;
  if (parent?.__name && parent.__pulumiType) parents.set(key, `${parent.__pulumiType}::${parent.__name}`);
  const opts = args.opts as pulumi.CustomResourceOptions;
  const dependsOn = Array.isArray(opts.dependsOn) ? (opts.dependsOn as Named[]) : [];
  options.set(key, {
    ...(opts.ignoreChanges ? { ignoreChanges: [...opts.ignoreChanges] } : {}),
    ...(opts.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    dependsOn: dependsOn.map((r) => r.__name ?? "(unnamed)"),
    ...(opts.deletedWith ? { deletedWith: (opts.deletedWith as Named).__name ?? "(unnamed)" } : {}),
    ...(opts.customTimeouts ? { customTimeouts: { ...opts.customTimeouts } } : {}),
    outputInputs: Object.keys(args.props).filter((k) => holdsOutput(args.props[k])),
  });
  return undefined;
};

// Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts, specialSigKey/specialSecretSig).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps a registered input: `secret` tells whether Pulumi sent it as a secret. */
export function unwrapSecret(value: unknown): { secret: boolean; value: unknown } {
  if (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  ) {
    return { secret: true, value: (value as { value: unknown }).value };
  }
  return { secret: false, value };
}

export function reset(): void {
  registrations.length = 0;
  invokes.length = 0;
  lookups.ami = "ami-0123456789abcdef0";
  lookups.openclawVersion = "2026.9.6";
  lookups.generatedToken = "GeneratedTokenGeneratedTokenGeneratedToken000000";
  lookups.recordedHostKey = HOST_KEYS.first;
  lookups.presentedHostKey = HOST_KEYS.first;
}

/** Errors already reported as a program's failure: the same error rejects every awaiter. */
const reported = new WeakSet<object>();
let failProgram: ((e: unknown) => void) | undefined;
let filtering = false;

/**
 * An error thrown while the program runs (in an apply feeding a resource's inputs, say) reaches
 * Pulumi's runtime as an unhandled rejection, once per resource that awaited it; the engine
 * reports it once, as the program's failure (@pulumi/pulumi cmd/run/run.js). So does this: the
 * listeners already there (the test runner's) get every other rejection, as before.
 */
function filterProgramRejections(): void {
  if (filtering) return;
  filtering = true;
  const others = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", (reason: unknown, promise: Promise<unknown>) => {
    const error = typeof reason === "object" && reason !== null ? reason : undefined;
    if (error && reported.has(error)) return;
    if (failProgram) {
      if (error) reported.add(error);
      // Logged as an error, as run.js does: the runtime then reports no leaked promises at exit.
      void pulumi.log.error(reason instanceof Error ? reason.message : String(reason));
      return failProgram(reason);
    }
    if (others.length === 0) throw reason;
    for (const listener of others) listener(reason, promise);
  });
}

/**
 * Runs a program under the mocks as the engine would: resolves with its result once `done`
 * resolves, or rejects with the first error the program failed with.
 */
export async function runProgram<T>(program: () => T, done: (result: T) => Promise<unknown>): Promise<T> {
  filterProgramRejections();
  const failed = new Promise<never>((_, reject) => (failProgram = reject));
  try {
    const result = program();
    await Promise.race([done(result), failed]);
    return result;
  } finally {
    failProgram = undefined;
  }
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Loads a shipped stack file as the stack's config, as `pulumi up` would, plus a private key. */
export function useStackConfig(
  stack: string,
  privateKey: string,
  overrides: Record<string, unknown> = {},
): void {
  const file = path.join(__dirname, "..", "..", "..", "stacks", `Pulumi.${stack}.yaml`);
  const config = (parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
  setConfig({ ...config, "openclaw:sshPrivateKey": privateKey, ...overrides });
}

export function setConfig(values: Record<string, unknown>): void {
  const flat = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  pulumi.runtime.setAllConfig(flat, ["openclaw:sshPrivateKey"]);
}
