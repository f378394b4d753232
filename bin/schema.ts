// npm run schema: writes schema.json, the multi-language schema `pulumi package add` infers from
// OpenClawServer's TypeScript types. The schema test fails when the checked-in copy differs.
import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { OpenClawServer } from "../components/OpenClawServer";

export const ROOT = path.join(__dirname, "..");
export const SCHEMA_FILE = path.join(ROOT, "schema.json");

/**
 * The provider's name as Pulumi's plugin runner (`@pulumi/pulumi/cmd/run-plugin`) derives it
 * from package.json: the name without its scope, other characters replaced by `-`.
 */
export function providerName(dir: string = ROOT): string {
  const { name } = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name: string };
  return /(@.*?\/)?(.+)/.exec(name)![2]!.replace(/[^-a-zA-Z0-9_]/g, "-");
}

/** The provider `pulumi package add` runs, in this process. */
export function componentProvider(): ComponentProvider {
  return new ComponentProvider({ name: providerName(), dirname: ROOT, components: [OpenClawServer] });
}

/** The schema as checked in: indented, with a final newline. */
export async function generateSchema(): Promise<string> {
  const schema = JSON.parse(await componentProvider().getSchema()) as unknown;
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  generateSchema().then(
    (text) => {
      fs.writeFileSync(SCHEMA_FILE, text);
      process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
