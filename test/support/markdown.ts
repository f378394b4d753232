// The project's Markdown as a reader meets it: its headings' anchors (GitHub's slugs), its links,
// and its fenced code blocks with the `<!-- program: NAME -->` marker that ties a block to the
// test that runs it. Parsed with markdown-it, so links inside code are not links and reference
// links are.
import * as fs from "node:fs";
import * as path from "node:path";
import GithubSlugger from "github-slugger";
import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";

export interface CodeBlock {
  /** The fence's language (`ts`, `yaml`, `go`, `python`, `sh`, ...), or "" when it has none. */
  readonly lang: string;
  readonly text: string;
  /** The NAME of a `<!-- program: NAME -->` comment right before the block, if any. */
  readonly program: string | undefined;
  /** The block's first line in the file, 1-based. */
  readonly line: number;
}

export interface MarkdownFile {
  readonly anchors: ReadonlySet<string>;
  /** Every link's target as written, with the line it is on. */
  readonly links: readonly { readonly href: string; readonly line: number }[];
  readonly blocks: readonly CodeBlock[];
}

const md = new MarkdownIt({ html: true });

function inlineText(token: Token | undefined): string {
  return (token?.children ?? [])
    .filter((t) => t.type === "text" || t.type === "code_inline")
    .map((t) => t.content)
    .join("");
}

export function readMarkdown(file: string): MarkdownFile {
  const tokens = md.parse(fs.readFileSync(file, "utf8"), {});
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  const links: { href: string; line: number }[] = [];
  const blocks: CodeBlock[] = [];
  let marker: string | undefined;
  let line = 1;
  tokens.forEach((token, i) => {
    // Table cells carry no line of their own: theirs is the row's, seen before them.
    if (token.map) line = token.map[0] + 1;
    if (token.type === "heading_open") anchors.add(slugger.slug(inlineText(tokens[i + 1])));
    for (const child of token.children ?? []) {
      if (child.type === "link_open") links.push({ href: child.attrGet("href") ?? "", line });
      // Explicit anchors (<a id="...">), as GitHub keeps them.
      const id =
        child.type === "html_inline" ? /<a\s+(?:id|name)="([^"]+)"/.exec(child.content)?.[1] : undefined;
      if (id) anchors.add(id);
    }
    if (token.type === "html_block") {
      marker = /<!--\s*program:\s*([\w.-]+)\s*-->/.exec(token.content)?.[1];
      return;
    }
    if (token.type === "fence") {
      blocks.push({
        lang: token.info.trim().split(/\s+/)[0] ?? "",
        text: token.content,
        program: marker,
        line,
      });
    }
    marker = undefined;
  });
  return { anchors, links, blocks };
}

/** README.md and every page under docs/, relative to `root`. */
export function docPages(root: string): string[] {
  const docs = path.join(root, "docs");
  const pages = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith(".md")) : [];
  return ["README.md", ...pages.sort().map((f) => `docs/${f}`)];
}

/** A fenced block of the docs, with the page it is on (relative to the root). */
export interface DocBlock extends CodeBlock {
  readonly page: string;
}

/** Every fenced code block in README.md and docs/, in page order. */
export function docBlocks(root: string): DocBlock[] {
  return docPages(root).flatMap((page) =>
    readMarkdown(path.join(root, page)).blocks.map((block) => ({ ...block, page })),
  );
}

/**
 * The one block marked `<!-- program: NAME -->` in README.md or docs/: the program a test runs
 * is the one a reader copies. Fails, naming the pages, when no block or several carry the name.
 */
export function docProgram(root: string, name: string): DocBlock {
  const found = docBlocks(root).filter((b) => b.program === name);
  if (found.length === 0)
    throw new Error(`no code block in README.md or docs/*.md is marked <!-- program: ${name} -->`);
  if (found.length > 1) {
    const where = found.map((b) => `${b.page}:${b.line}`).join(", ");
    throw new Error(`<!-- program: ${name} --> marks ${found.length} blocks (${where}): a name marks one`);
  }
  return found[0]!;
}

/**
 * Whether a block is a program a reader would run: a Pulumi YAML program (`resources:`) or a
 * stack file (`config:`), or TypeScript, Python or Go that imports Pulumi or this package.
 */
export function isProgram(block: CodeBlock): boolean {
  switch (block.lang) {
    case "yaml":
    case "yml":
      return /^(resources|config):/m.test(block.text);
    case "ts":
    case "typescript":
      return /^import\b.*["'](@pulumi\/[\w-]+|openclaw-server)["']/m.test(block.text);
    case "python":
    case "py":
      return /^(import|from)\s+(pulumi|pulumi_openclaw_server)\b/m.test(block.text);
    case "go":
      return /"github\.com\/pulumi\/|openclaw-server/.test(block.text);
    default:
      return false;
  }
}
