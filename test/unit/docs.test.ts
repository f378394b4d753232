// The docs a reader follows: every relative link in README.md and docs/ reaches a file of this
// repository, and every anchor a heading (or an explicit anchor) of the page it points into.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type MarkdownFile, docPages, readMarkdown } from "../support/markdown";

const ROOT = path.join(__dirname, "..", "..");

/** What is wrong with each relative link of `page`, as "page:line: href: why". */
export function brokenLinks(root: string, page: string, read = (p: string) => readMarkdown(p)): string[] {
  const cache = new Map<string, MarkdownFile>();
  const parsed = (p: string) => cache.get(p) ?? cache.set(p, read(p)).get(p)!;
  const broken: string[] = [];
  for (const { href, line } of parsed(path.join(root, page)).links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // http:, https:, mailto: and the like
    const [target, anchor] = href.split("#", 2) as [string, string | undefined];
    const file =
      target === "" ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), target);
    const why = !file.startsWith(root + path.sep)
      ? "points outside the repository"
      : !fs.existsSync(file)
        ? "no such file"
        : anchor !== undefined &&
            file.endsWith(".md") &&
            !parsed(file).anchors.has(decodeURIComponent(anchor))
          ? `no heading with the anchor #${anchor} in ${path.relative(root, file)}`
          : undefined;
    if (why) broken.push(`${page}:${line}: ${href}: ${why}`);
  }
  return broken;
}

test("every relative link and anchor in README.md and docs/ resolves", () => {
  const broken = docPages(ROOT).flatMap((page) => brokenLinks(ROOT, page));
  assert.deepEqual(broken, []);
});

test("the link check catches a missing file, a missing anchor and a path out of the repository", () => {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "openclaw-docs-"));
  try {
    fs.mkdirSync(path.join(dir, "docs"));
    fs.writeFileSync(
      path.join(dir, "README.md"),
      [
        "# Title",
        "## Quick start",
        "[ok](docs/a.md#the-safety-model) [ok too](#quick-start) [web](https://example.com/x#y)",
        "",
        "[gone](docs/b.md) [no anchor](docs/a.md#nowhere) [out](../etc/passwd) [self](#title-two)",
        "",
        "`[not a link](docs/none.md)`",
        "",
      ].join("\n"),
    );
    fs.writeFileSync(path.join(dir, "docs", "a.md"), "# A\n\n### The safety model\n");
    assert.deepEqual(brokenLinks(dir, "README.md"), [
      "README.md:5: docs/b.md: no such file",
      "README.md:5: docs/a.md#nowhere: no heading with the anchor #nowhere in docs/a.md",
      "README.md:5: ../etc/passwd: points outside the repository",
      "README.md:5: #title-two: no heading with the anchor #title-two in README.md",
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
