import * as fs from "node:fs";
import * as path from "node:path";
import { YAMLError, parse as parseYaml } from "yaml";
import { type ConfigReader, NAMESPACE } from "./settings";

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The stack file is missing, misnamed or not valid YAML: a usage problem, reported without a
 * stack trace.
 */
export class StackFileError extends Error {}

/** Where the offline tools find the stack files: stacks/, or OPENCLAW_STACKS_DIR when set. */
export function stacksDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["OPENCLAW_STACKS_DIR"] || path.join(__dirname, "..", "..", "stacks");
}

/** Reads `stacks/Pulumi.<stack>.yaml` the way Pulumi would, for the offline tools. */
export function readStackFile(stacksDir: string, stack: string): ConfigReader {
  if (!STACK_NAME.test(stack)) {
    throw new StackFileError(
      `--stack ${JSON.stringify(stack)} is not a stack name. Accepted: letters, digits, '.', '_' and '-'.`,
    );
  }
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = fs
      .readdirSync(stacksDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter(Boolean);
    throw new StackFileError(`No stack file ${file}. Accepted stacks: ${known.join(", ")}.`);
  }
  const doc = parseStackYaml(file, fs.readFileSync(file, "utf8"));
  const config = doc["config"] ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(
      `${file}: config is not a mapping of keys to values. Accepted: config: followed by indented "${NAMESPACE}:key: value" lines.`,
    );
  }
  const values = config as Record<string, unknown>;
  const prefix = `${NAMESPACE}:`;
  return Object.assign((key: string) => values[`${prefix}${key}`], {
    keys: Object.keys(values)
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length)),
  });
}

/** The file's top-level mapping. A syntax error names the file, line and column, and shows the line. */
function parseStackYaml(file: string, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    if (!(e instanceof YAMLError)) throw e;
    // yaml's message: "<what> at line L, column C:\n\n<the line>\n<caret>\n".
    const [what, ...excerpt] = e.message.split("\n");
    const at = e.linePos?.[0];
    const where = at ? `${file} at line ${at.line}, column ${at.col}` : file;
    const detail = excerpt.join("\n").trimEnd();
    throw new StackFileError(
      `Invalid YAML in ${where}: ${what!.replace(/ at line \d+, column \d+:$/, "")}.${detail ? `\n${detail}` : ""}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new StackFileError(
      `${file}: is not a YAML mapping. Accepted: a stack file with a config: section.`,
    );
  }
  return doc as Record<string, unknown>;
}
