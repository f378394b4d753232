// The configuration reference (docs/configuration.md) is generated from the code's own sources
// (bin/docs.ts), documents exactly the keys the parser accepts, and every key the docs name
// exists: a renamed or removed key cannot survive in a page.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIGURATION_FILE, ROOT, generateConfiguration } from "../../bin/docs";
import { generateSchema } from "../../bin/schema";
import { PolicyError } from "../../components/policy/errors";
import { parseServerArgs } from "../../components/serverArgs";
import { NAMESPACE, STACK_KEYS } from "../../components/stack/settings";
import { docPages } from "../support/markdown";

interface Property {
  $ref?: string;
  type?: string;
  items?: Property;
}
interface Schema {
  resources: Record<string, { inputProperties: Record<string, Property> }>;
  types: Record<string, { properties?: Record<string, Property>; enum?: unknown[] }>;
}

const generating = generateSchema().then((text) => JSON.parse(text) as Schema);

/** Args every target accepts as valid, for the blocks to be checked one at a time. */
const BASE: Record<string, unknown> = {
  firewall: { ssh: { adminCidrs: ["198.51.100.0/24"] }, outgoing: { policy: "deny", allow: [] } },
  existing: { address: "192.0.2.10" },
  ssh: { user: "root", privateKey: "key" },
};

/** Each object block of the args, by path (`firewall.services[0]`), with its schema type. */
function blocks(schema: Schema): { path: string[]; type: string }[] {
  const out: { path: string[]; type: string }[] = [];
  const walk = (props: Record<string, Property>, at: string[]) => {
    for (const [name, p] of Object.entries(props)) {
      const array = p.type === "array" && p.items ? p.items : undefined;
      const ref = (array ?? p).$ref?.replace(/^#\/types\//, "");
      const t = ref ? schema.types[ref] : undefined;
      if (!ref || !t?.properties) continue;
      const here = array ? [...at, name, "0"] : [...at, name];
      out.push({ path: here, type: ref });
      walk(t.properties, here);
    }
  };
  walk(Object.values(schema.resources)[0]!.inputProperties, []);
  return out;
}

/** `args` with `{ zzzUnknownKey: 1 }` merged in at `at`, the blocks on the way made as needed. */
function withUnknownKey(args: Record<string, unknown>, at: string[]): Record<string, unknown> {
  const copy = structuredClone(args);
  let node: Record<string, unknown> | unknown[] = copy;
  at.forEach((part, i) => {
    const next = at[i + 1];
    const container = node as Record<string, unknown>;
    container[part] ??= next !== undefined && /^\d+$/.test(next) ? [] : {};
    node = container[part] as Record<string, unknown>;
  });
  (node as Record<string, unknown>)["zzzUnknownKey"] = 1;
  return copy;
}

const KEYS = {
  firewall: "firewall",
  kind: "target",
  target: (k: string) => k,
  ssh: "ssh",
  user: "ssh.user",
  hostKey: "ssh.hostKey",
  privateKey: "ssh.privateKey",
  hardening: "hardening",
  openclaw: "openclaw",
  openclawSecret: (s: string) => `openclaw.${s}`,
};

/** The parser's refusals of keys it does not know in `args`, by key. */
function unknownKeys(args: Record<string, unknown>): Map<string, string> {
  try {
    parseServerArgs(args, KEYS);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return new Map(
      e.problems.filter((p) => /is not a known key/.test(p.problem)).map((p) => [p.key, p.accepted]),
    );
  }
  return new Map();
}

/** The base args, with the target block `at` starts in when it names one. */
const baseFor = (at: string[]) =>
  ["aws", "hcloud", "existing"].includes(at[0]!) ? { ...BASE, existing: undefined, [at[0]!]: {} } : BASE;

/** The keys the parser accepts in the block at `at`, read from its own refusal of an unknown key. */
function acceptedKeys(at: string[]): string[] {
  const key = [...at, "zzzUnknownKey"].join(".").replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  const accepted = unknownKeys(withUnknownKey(baseFor(at), at)).get(key);
  assert.ok(accepted, `${key} was not refused as an unknown key`);
  // Some blocks name their keys in full (`openclaw.enabled`): the block's own part is dropped.
  const block = key.slice(0, key.lastIndexOf("zzzUnknownKey"));
  return /^one of (.+)$/
    .exec(accepted)![1]!
    .split(", ")
    .map((k) => (k.startsWith(block) ? k.slice(block.length) : k));
}

/** Whether the parser knows the dotted key `dotted` (`hardening.sshd.settings`): no part refused. */
function knownKey(dotted: string): boolean {
  const at = dotted.replace(/\[(\d+)\]/g, ".$1").split(".");
  const args = structuredClone(baseFor(at)) as Record<string, unknown>;
  let node = args;
  at.forEach((part, i) => {
    const next = at[i + 1];
    if (next === undefined) node[part] = null;
    else node = (node[part] ??= /^\d+$/.test(next) ? [] : {}) as Record<string, unknown>;
  });
  const refused = [...unknownKeys(args).keys()];
  return !refused.some((k) => dotted === k || dotted.startsWith(`${k}.`) || dotted.startsWith(`${k}[`));
}

test("docs/configuration.md is what `npm run docs` writes from the schema and the stack mapping", async () => {
  assert.equal(
    fs.readFileSync(CONFIGURATION_FILE, "utf8"),
    await generateConfiguration(),
    "docs/configuration.md is out of date: run `npm run docs` and commit it",
  );
});

test("each block documents exactly the keys the parser accepts in it", async () => {
  const schema = await generating;
  const found = blocks(schema);
  assert.ok(found.length >= 10, `the args' blocks: ${found.map((b) => b.path.join(".")).join(", ")}`);
  for (const { path: at, type } of found) {
    const documented = Object.keys(schema.types[type]!.properties!).sort();
    assert.deepEqual(acceptedKeys(at).sort(), documented, `${at.join(".")} (${type})`);
  }
});

/** Dotted names in the pages that are files or units, not keys (`openclaw.json`, `ssh.service`). */
const NOT_KEYS = /\.(json|ts|js|ya?ml|service|timer|conf|sh|md|log)$|\.[A-Z]/;

test("every stack key and arg path the pages name is one the parser accepts", () => {
  const wrong: string[] = [];
  for (const page of docPages(ROOT)) {
    const text = fs.readFileSync(path.join(ROOT, page), "utf8");
    // `openclaw:key`, not a type token or a rule comment (`openclaw:index:...`, `openclaw:out:ntp`).
    for (const [, key] of text.matchAll(new RegExp(`\`${NAMESPACE}:([A-Za-z]+)(?![:\\w])`, "g"))) {
      if (!(STACK_KEYS as readonly string[]).includes(key!)) wrong.push(`${page}: ${NAMESPACE}:${key}`);
    }
    const pathPattern =
      /`(?:openclaw:)?((?:firewall|hardening|openclaw|ssh|aws|hcloud|existing)(?:\.[A-Za-z]+(?:\[\d+\])?)+)[`:]/g;
    for (const [, dotted] of text.matchAll(pathPattern)) {
      if (!NOT_KEYS.test(dotted!) && !knownKey(dotted!)) wrong.push(`${page}: ${dotted}`);
    }
  }
  assert.deepEqual(wrong, [], "keys named in the docs that the parser does not accept");
});
