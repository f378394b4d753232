// The sections of bench/RESULTS.md, and the hash of the host scripts that the hardening's figures
// measured (every *.sh and *.py file in components/hardening/, by name and content), which that
// section records: test/unit/benchResults.test.ts fails when the scripts no longer hash to it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const HOST_SCRIPTS = path.join(__dirname, "..", "components", "hardening");

/** The scripts' names, sorted, and the first 16 hex digits of a SHA-256 over names and contents. */
export function scriptsHash(dir = HOST_SCRIPTS): string {
  const hash = createHash("sha256");
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => /\.(sh|py)$/.test(f))
    .sort()) {
    hash.update(`${file}\0${fs.readFileSync(path.join(dir, file), "utf8")}\0`);
  }
  return hash.digest("hex").slice(0, 16);
}

/** The hash a RESULTS.md section records (`Host scripts measured: \`HASH\``), if any. */
export function recordedHash(section: string): string | undefined {
  return /Host scripts measured: `([0-9a-f]{16})`/.exec(section)?.[1];
}

/** The text between `<!-- name -->` and `<!-- /name -->`, markers included, if there. */
export function section(text: string, name: string): string | undefined {
  return new RegExp(`<!-- ${name} -->[\\s\\S]*?<!-- /${name} -->`).exec(text)?.[0];
}

/** Replaces section `name` of `file` (or puts it before the analysis), keeping everything else. */
export function replaceSection(file: string, name: string, block: string): void {
  const text = fs.existsSync(file)
    ? fs.readFileSync(file, "utf8")
    : "# Benchmark results\n\n<!-- analysis -->\n";
  const next =
    section(text, name) !== undefined
      ? text.replace(section(text, name)!, () => block)
      : text.includes("<!-- analysis -->")
        ? text.replace("<!-- analysis -->", () => `${block}\n\n<!-- analysis -->`)
        : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, next);
}
