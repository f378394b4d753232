// npm run build: compiles components/ to dist/ (JavaScript and declarations), then copies every
// file that is not TypeScript (the host scripts read at run time through __dirname) beside it.
// Writes only to stderr, so `npm pack --json` (which runs it through `prepare`) stays JSON.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "components");
const out = path.join(root, "dist");

fs.rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], {
  stdio: ["ignore", 2, 2],
});

let assets = 0;
const copyAssets = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(from);
    else if (!entry.name.endsWith(".ts")) {
      fs.copyFileSync(from, path.join(out, path.relative(src, from)));
      assets++;
    }
  }
};
copyAssets(src);
process.stderr.write(`build: dist/ written, ${assets} assets copied\n`);
