// npm run plan -- --stack <name>: validates a stack's config and prints what every layer would enforce.
import { parseArgs } from "node:util";
import { PolicyError } from "../components/policy/errors";
import { renderPlan } from "../components/plan/plan";
import { parseStackSettings } from "../components/stack/settings";
import { StackFileError, readStackFile, stacksDir } from "../components/stack/stackFile";

function main(argv: string[]): number {
  let stack: string | undefined;
  try {
    ({ stack } = parseArgs({ args: argv, options: { stack: { type: "string", short: "s" } } }).values);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nUsage: npm run plan -- --stack <name>\n`);
    return 2;
  }
  if (!stack) {
    process.stderr.write("Usage: npm run plan -- --stack <name>   (reads stacks/Pulumi.<name>.yaml)\n");
    return 2;
  }
  try {
    const settings = parseStackSettings(readStackFile(stacksDir(), stack));
    process.stdout.write(renderPlan(stack, settings));
    return 0;
  } catch (e) {
    if (e instanceof PolicyError || e instanceof StackFileError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
