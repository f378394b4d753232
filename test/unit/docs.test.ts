// The docs a reader follows: every relative link in README.md and docs/ reaches a file of this
// repository, and every anchor a heading (or an explicit anchor) of the page it points into; and
// every program a page shows is one a test runs, read by its `<!-- program: NAME -->` marker; and
// docs/testing.md's "Every suite" names every suite test/suites.json has.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type MarkdownFile,
  docBlocks,
  docPages,
  docProgram,
  isProgram,
  readMarkdown,
} from "../support/markdown";

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

/** The program blocks of the pages under `root` that carry no `<!-- program: NAME -->` marker. */
export function unmarkedPrograms(root: string): string[] {
  return docBlocks(root)
    .filter((b) => isProgram(b) && b.program === undefined)
    .map((b) => `${b.page}:${b.line}: a ${b.lang} program without a <!-- program: NAME --> marker`);
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The markers under `root` that no test source under `root`/test reads through `docProgram`. */
export function unreadMarkers(root: string): string[] {
  const read = new Set<string>();
  for (const file of filesUnder(path.join(root, "test")).filter((f) => /\.(ts|cjs|mjs)$/.test(f))) {
    for (const [, name] of fs
      .readFileSync(file, "utf8")
      .matchAll(/docProgram\(\s*[^,()]+,\s*["'`]([\w.-]+)["'`]\s*\)/g))
      read.add(name!);
  }
  return docBlocks(root)
    .filter((b) => b.program !== undefined && !read.has(b.program))
    .map(
      (b) =>
        `${b.page}:${b.line}: <!-- program: ${b.program} --> is read by no test (docProgram(ROOT, "${b.program}"))`,
    );
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

test("every program in README.md and docs/ carries a marker, and a test reads each marker", () => {
  assert.deepEqual(unmarkedPrograms(ROOT), []);
  assert.deepEqual(unreadMarkers(ROOT), []);
});

test("the program check catches an unmarked program and a marker no test reads", () => {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "openclaw-docs-"));
  try {
    fs.mkdirSync(path.join(dir, "docs"));
    fs.mkdirSync(path.join(dir, "test", "unit"), { recursive: true });
    const fence = "```";
    fs.writeFileSync(
      path.join(dir, "README.md"),
      [
        "# Title",
        "<!-- program: zz-read -->",
        "",
        `${fence}ts`,
        'import * as pulumi from "@pulumi/pulumi";',
        fence,
        "",
        `${fence}yaml`,
        "config:",
        "  openclaw:target: hcloud",
        fence,
        "",
        `${fence}yaml`,
        "openclaw:firewall: {}",
        fence,
        "",
      ].join("\n"),
    );
    fs.writeFileSync(
      path.join(dir, "docs", "a.md"),
      ["# A", "", "<!-- program: zz-unread -->", "", `${fence}python`, "import pulumi", fence, ""].join("\n"),
    );
    fs.writeFileSync(
      path.join(dir, "test", "unit", "x.test.ts"),
      'const text = docProgram(ROOT, "zz-read").text;\n',
    );
    assert.deepEqual(unmarkedPrograms(dir), [
      "README.md:8: a yaml program without a <!-- program: NAME --> marker",
    ]);
    assert.deepEqual(unreadMarkers(dir), [
      'docs/a.md:5: <!-- program: zz-unread --> is read by no test (docProgram(ROOT, "zz-unread"))',
    ]);
    // docProgram finds a marker's one block, and names the pages when there is none or several.
    assert.equal(docProgram(dir, "zz-unread").text, "import pulumi\n");
    assert.throws(() => docProgram(dir, "zz-none"), /no code block in README.md or docs\/\*\.md is marked/);
    fs.appendFileSync(
      path.join(dir, "docs", "a.md"),
      `\n<!-- program: zz-read -->\n\n${fence}sh\nls\n${fence}\n`,
    );
    assert.throws(() => docProgram(dir, "zz-read"), /marks 2 blocks \(README\.md:4, docs\/a\.md:11\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The suites of `suitesFile` (test/suites.json) that the "Every suite" section of `testingPage`
 * (docs/testing.md) does not name, each by its file name or its name without `.test.ts`; and the
 * `*.test.ts` names the section gives that are no suite.
 */
export function unlistedSuites(suitesFile: string, testingPage: string): string[] {
  const suites = Object.keys((JSON.parse(fs.readFileSync(suitesFile, "utf8")) as { suites: object }).suites);
  const text = fs.readFileSync(testingPage, "utf8");
  const section = /^## Every suite\n([\s\S]*?)(?=^## )/m.exec(text)?.[1] ?? "";
  const named = new Set([...section.matchAll(/`([\w.-]+)`/g)].map((m) => m[1]!.replace(/\.test\.ts$/, "")));
  const known = new Set(suites.map((s) => path.basename(s, ".test.ts")));
  return [
    ...suites.filter((s) => !named.has(path.basename(s, ".test.ts"))).map((s) => `${s}: not listed`),
    ...[...section.matchAll(/`([\w-]+)\.test\.ts`/g)]
      .filter((m) => !known.has(m[1]!))
      .map((m) => `${m[1]}.test.ts: listed, but no such suite`),
  ];
}

test("testing.md's Every suite names each suite of test/suites.json, and no other", () => {
  assert.deepEqual(
    unlistedSuites(path.join(ROOT, "test/suites.json"), path.join(ROOT, "docs/testing.md")),
    [],
  );
});

test("the suite check catches a suite not listed and a listed file that is none", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-docs-"));
  try {
    const suites = path.join(dir, "suites.json");
    fs.writeFileSync(
      suites,
      JSON.stringify({ suites: { "test/unit/a.test.ts": {}, "test/host/b.test.ts": {} } }),
    );
    const page = path.join(dir, "testing.md");
    fs.writeFileSync(page, "# T\n\n## Every suite\n\n- `a.test.ts`, `gone.test.ts`\n\n## Next\n\n`b`\n");
    assert.deepEqual(unlistedSuites(suites, page), [
      "test/host/b.test.ts: not listed",
      "gone.test.ts: listed, but no such suite",
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
