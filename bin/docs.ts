// npm run docs: writes the generated parts of docs/configuration.md, between its
// `<!-- generated: NAME -->` and `<!-- end generated -->` markers, from the sources the code
// itself uses: the component's args and outputs from the schema the analyzer infers (the JSDoc on
// the args' interfaces, as schema.json holds it), and the stack keys from the stack mapping
// (mapStackConfig, run on a marker per key to see where each lands). The docs test fails when
// the checked-in file differs from what this writes.
import * as fs from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { generateSchema } from "./schema";
import { NAMESPACE, STACK_KEYS, mapStackConfig } from "../components/stack/settings";
import { OPENCLAW_SECRETS } from "../components/openclaw/parse";
import { TARGET_KINDS } from "../components/serverArgs";

export const ROOT = path.join(__dirname, "..");
export const CONFIGURATION_FILE = path.join(ROOT, "docs", "configuration.md");

interface Property {
  readonly type?: string;
  readonly $ref?: string;
  readonly items?: Property;
  readonly additionalProperties?: Property;
  readonly description?: string;
  readonly optional?: boolean;
}
interface ObjectType {
  readonly type: string;
  readonly description?: string;
  readonly properties?: Record<string, Property>;
  readonly required?: string[];
  readonly enum?: { readonly value: string }[];
}
interface Schema {
  readonly resources: Record<
    string,
    {
      readonly description: string;
      readonly inputProperties: Record<string, Property>;
      readonly requiredInputs: string[];
      readonly properties: Record<string, Property>;
    }
  >;
  readonly types: Record<string, ObjectType>;
}

const typeName = (ref: string) => ref.replace(/^#\/types\/[^:]+:index:/, "");
const anchorOf = (name: string) => name.toLowerCase();

/** A property's type as a reader writes it: `string`, `number[]`, a link to an object type. */
function typeText(p: Property, schema: Schema): string {
  if (p.$ref) {
    const name = typeName(p.$ref);
    const t = schema.types[p.$ref.replace(/^#\/types\//, "")];
    if (t?.enum) return t.enum.map((e) => `\`"${e.value}"\``).join(" \\| ");
    return `[${name}](#${anchorOf(name)})`;
  }
  if (p.type === "array" && p.items) return `${typeText(p.items, schema)}[]`;
  if (p.type === "object" && p.additionalProperties)
    return `map of ${typeText(p.additionalProperties, schema)}`;
  return `\`${p.type ?? "any"}\``;
}

/** JSDoc as one paragraph: its line breaks are the source's wrapping, not the reader's. */
const prose = (text: string | undefined, where: string) => {
  if (!text?.trim()) throw new Error(`${where} has no description: write its JSDoc`);
  return text.trim().replace(/\s*\n\s*/g, " ");
};

function propertyList(
  props: Record<string, Property>,
  required: string[],
  schema: Schema,
  owner: string,
): string {
  return Object.entries(props)
    .map(
      ([name, p]) =>
        `- **\`${name}\`** (${typeText(p, schema)}${required.includes(name) ? ", required" : ""}): ` +
        prose(p.description, `${owner}.${name}`),
    )
    .join("\n");
}

/** Every object type the args reach, in the order a reader meets them. */
function reachedTypes(start: Record<string, Property>, schema: Schema): string[] {
  const seen: string[] = [];
  const visit = (p: Property | undefined) => {
    if (!p) return;
    if (p.$ref) {
      const id = p.$ref.replace(/^#\/types\//, "");
      const t = schema.types[id];
      if (!t || t.enum || seen.includes(id)) return;
      seen.push(id);
      Object.values(t.properties ?? {}).forEach(visit);
    }
    visit(p.items);
    visit(p.additionalProperties);
  };
  Object.values(start).forEach(visit);
  return seen;
}

function componentArgs(schema: Schema): string {
  const [token, resource] = Object.entries(schema.resources)[0]!;
  const types = reachedTypes(resource.inputProperties, schema).map((id) => {
    const t = schema.types[id]!;
    return [
      `### ${typeName(`#/types/${id}`)}`,
      "",
      ...(t.description ? [prose(t.description, id), ""] : []),
      propertyList(t.properties ?? {}, t.required ?? [], schema, typeName(`#/types/${id}`)),
    ].join("\n");
  });
  return [
    `\`new OpenClawServer(name, args, opts)\` (type \`${token}\`). ${prose(resource.description, token)}`,
    "",
    "### OpenClawServerArgs",
    "",
    propertyList(resource.inputProperties, resource.requiredInputs, schema, "OpenClawServerArgs"),
    "",
    ...types.flatMap((t) => [t, ""]),
  ]
    .join("\n")
    .trimEnd();
}

function componentOutputs(schema: Schema): string {
  const resource = Object.values(schema.resources)[0]!;
  return propertyList(resource.properties, [], schema, "outputs");
}

/** Where each stack key lands in the args, found by running the mapping on a marker per key. */
export function stackKeyArgs(): Map<string, string> {
  const marker = (key: string) => `«${key}»`;
  const landed = new Map<string, string>();
  const find = (value: unknown, at: string) => {
    if (typeof value === "string" && /^«.+»$/.test(value)) landed.set(value.slice(1, -1), at);
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) find(v, at ? `${at}.${k}` : k);
  };
  const secrets = Object.fromEntries(OPENCLAW_SECRETS.map((s) => [s, marker(s)]));
  // Each target once; then with no key set, where the secrets' own keys land on their own.
  for (const kind of TARGET_KINDS) {
    for (const set of [true, false]) {
      const read = (key: string) => (key === "target" ? kind : set ? marker(key) : undefined);
      find(mapStackConfig(read, marker("sshPrivateKey"), secrets).args, "");
    }
  }
  return landed;
}

function stackKeys(schema: Schema): string {
  const landed = stackKeyArgs();
  const resource = Object.values(schema.resources)[0]!;
  const describe = (argPath: string) => {
    let props = resource.inputProperties;
    let requiredHere = resource.requiredInputs;
    let required = true;
    let p: Property | undefined;
    for (const part of argPath.split(".")) {
      p = props[part];
      // A key is required when every block on its way is: `ssh.privateKey`, not `openclaw.gatewayToken`.
      required &&= requiredHere.includes(part);
      const t = p?.$ref ? schema.types[p.$ref.replace(/^#\/types\//, "")] : undefined;
      props = t?.properties ?? {};
      requiredHere = t?.required ?? [];
    }
    if (!p) throw new Error(`the stack mapping sets ${argPath}, which the schema does not have`);
    const type = typeText(p, schema) + (required ? ", required" : "");
    return { type, text: prose(p.description, argPath) };
  };
  return STACK_KEYS.map((key) => {
    const full = `\`${NAMESPACE}:${key}\``;
    if (key === "target") {
      return `- **${full}** (${TARGET_KINDS.map((k) => `\`"${k}"\``).join(" \\| ")}, required): which target the stack deploys to; its settings are the key of the same name.`;
    }
    const argPath = landed.get(key);
    if (!argPath) throw new Error(`the stack mapping puts ${NAMESPACE}:${key} nowhere in the args`);
    const { type, text } = describe(argPath);
    return `- **${full}** → \`${argPath}\` (${type}): ${text}`;
  }).join("\n");
}

/** The generated sections, by marker name. */
export async function generatedSections(): Promise<Record<string, string>> {
  const schema = JSON.parse(await generateSchema()) as Schema;
  return {
    "stack-keys": stackKeys(schema),
    "component-args": componentArgs(schema),
    "component-outputs": componentOutputs(schema),
  };
}

/** `text` with each generated section replaced; throws on a marker without its end or content. */
export function fillSections(text: string, sections: Record<string, string>): string {
  const seen = new Set<string>();
  const out = text.replace(
    /(<!-- generated: ([\w-]+) -->\n)[\s\S]*?(<!-- end generated -->)/g,
    (_all, open: string, name: string, close: string) => {
      const body = sections[name];
      if (body === undefined) throw new Error(`docs/configuration.md: no generator for the section ${name}`);
      seen.add(name);
      return `${open}${body}\n${close}`;
    },
  );
  const missing = Object.keys(sections).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`docs/configuration.md has no markers for: ${missing.join(", ")}`);
  return out;
}

/** docs/configuration.md as it should be checked in: generated, then formatted as the repository is. */
export async function generateConfiguration(): Promise<string> {
  const filled = fillSections(fs.readFileSync(CONFIGURATION_FILE, "utf8"), await generatedSections());
  const options = await prettier.resolveConfig(CONFIGURATION_FILE);
  return prettier.format(filled, { ...options, filepath: CONFIGURATION_FILE });
}

if (require.main === module) {
  generateConfiguration().then(
    (text) => {
      fs.writeFileSync(CONFIGURATION_FILE, text);
      process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIGURATION_FILE)}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
