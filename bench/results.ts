// The sections of bench/RESULTS.md, and the hash of the host scripts that the hardening's figures
// measured (every *.sh and *.py file in components/hardening/, by name and content), which that
// section records: test/unit/benchResults.test.ts fails when the scripts no longer hash to it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { RENDERED_HOST_SCRIPTS } from "../components/hardening/script";

export const HOST_SCRIPTS = path.join(__dirname, "..", "components", "hardening");

/** The first 16 hex digits of a SHA-256 over the scripts' names, sorted, and contents. */
function hashScripts(scripts: Readonly<Record<string, string>>): string {
  const hash = createHash("sha256");
  for (const file of Object.keys(scripts).sort()) hash.update(`${file}\0${scripts[file]}\0`);
  return hash.digest("hex").slice(0, 16);
}

/** The hash of every *.sh and *.py file in `dir` as it is on disk now. */
export function scriptsHash(dir = HOST_SCRIPTS): string {
  const files = fs.readdirSync(dir).filter((f) => /\.(sh|py)$/.test(f));
  return hashScripts(Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])));
}

/**
 * The hash of the scripts the steps rendered (read once, when the bench started), for a section
 * to record. Throws when that is not what `dir` holds now: a script changed while the bench ran,
 * or one is not rendered; the figures would then belong to no scripts the test can see.
 */
export function measuredHash(rendered = RENDERED_HOST_SCRIPTS, dir = HOST_SCRIPTS): string {
  const measured = hashScripts(rendered);
  const now = scriptsHash(dir);
  if (measured !== now) {
    throw new Error(
      `the host scripts measured (${Object.keys(rendered).join(", ")}, hash ${measured}) are not those in ${dir} now (hash ${now}): a script changed while the bench ran, or one is not rendered; not written, measure again`,
    );
  }
  return measured;
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
