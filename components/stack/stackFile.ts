import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { type ConfigReader, NAMESPACE } from "./settings";

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** The stack file is missing or misnamed: a usage problem, reported without a stack trace. */
export class StackFileError extends Error {}

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
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config = doc?.config ?? {};
  return (key) => config[`${NAMESPACE}:${key}`];
}
