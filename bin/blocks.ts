// npm run blocks -- --stack <name>: the blocked traffic UFW logged on the stack's host, over SSH.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readBlocksOutput, renderBlocksScript } from "../components/blocks/script";
import { REMOTE_SHELL } from "../components/hardening/script";
import { PolicyError } from "../components/policy/errors";
import { renderBlocksJson, renderBlocksText, summariseBlocks } from "../components/blocks/report";
import { BLOCKS_USAGE, UsageError, parseBlocksArgs } from "../components/blocks/options";
import { type SshTarget, blocksTarget } from "../components/blocks/target";
import { parseUfwLog } from "../components/blocks/ufwLog";
import { parseStackSettings } from "../components/stack/settings";
import { StackFileError, readStackFile, stacksDir } from "../components/stack/stackFile";

async function main(argv: string[]): Promise<number> {
  let options;
  let target;
  try {
    options = parseBlocksArgs(argv);
    target = blocksTarget(parseStackSettings(readStackFile(stacksDir(), options.stack)), options);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${BLOCKS_USAGE}`);
      return 2;
    }
    if (e instanceof PolicyError || e instanceof StackFileError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const { code, stdout } = await ssh(
    target,
    options.identity,
    options.sshOptions,
    renderBlocksScript(options.since),
  );
  if (code !== 0) {
    process.stderr.write(
      `Reading UFW's log on ${target.user}@${target.host} failed (ssh exit ${code}); see above.\n`,
    );
    return 1;
  }
  const host = readBlocksOutput(stdout);
  const log = parseUfwLog(host.lines, host.now.slice(0, 19));
  const report = summariseBlocks(log.entries, host.since);
  const context = {
    stack: options.stack,
    host: `${target.user}@${target.host}`,
    sources: host.sources,
    since: host.since,
    now: host.now,
    logging: host.logging,
    unreadable: log.unreadable,
  };
  process.stdout.write(options.json ? renderBlocksJson(report, context) : renderBlocksText(report, context));
  return 0;
}

/**
 * Runs the script through the operator's own ssh: their agent, keys, config and known hosts.
 * A host key pinned in the stack (openclaw:sshHostKey) is the only one accepted.
 */
async function ssh(
  target: SshTarget,
  identity: string | undefined,
  sshOptions: readonly string[],
  script: string,
): Promise<{ code: number; stdout: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-blocks-"));
  try {
    const args = ["-T", "-p", String(target.port), "-o", "ConnectTimeout=15"];
    if (target.hostKey) {
      const known = path.join(tmp, "known_hosts");
      const name = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
      fs.writeFileSync(known, `${name} ${target.hostKey}\n`);
      // ssh takes the first value given for an option: these come before the operator's -o.
      args.push("-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes");
    }
    if (identity) args.push("-i", identity, "-o", "IdentitiesOnly=yes");
    for (const option of sshOptions) args.push("-o", option);
    args.push("--", `${target.user}@${target.host}`, REMOTE_SHELL);
    return await new Promise((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "inherit"] });
      let stdout = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d: string) => (stdout += d));
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(
          e.code === "ENOENT" ? new Error("npm run blocks needs the OpenSSH client, ssh, on your PATH") : e,
        ),
      );
      child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(script);
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
