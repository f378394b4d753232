import * as fs from "node:fs";
import * as path from "node:path";
import { assign } from "../hardening/script";

/** Where UFW's log is on Ubuntu and Debian with rsyslog (its rsyslog.d/20-ufw.conf). */
export const UFW_LOG = "/var/log/ufw.log";

// A real file, so it can be read, linted and run on its own; rendered verbatim.
const LIBRARY = fs.readFileSync(path.join(__dirname, "blocks.sh"), "utf8");

/**
 * The script `npm run blocks` sends on stdin (under hardening/script.ts's REMOTE_SHELL): it prints UFW's
 * block lines since `since` (`<n>h`, `<n>d` or `YYYY-MM-DD[ HH:MM]`, validated by the caller).
 */
export function renderBlocksScript(since: string): string {
  return [
    "#!/bin/bash",
    "# openclaw blocks: reads UFW's log. See components/blocks/blocks.sh.",
    assign("SINCE", since),
    assign("UFW_LOG", UFW_LOG),
    "",
    LIBRARY.trimEnd(),
    "",
    "blocks_main",
    "",
  ].join("\n");
}

/** What the host sent back: its `#openclaw key=value` header, then the log lines. */
export interface BlocksOutput {
  /** The host's clock, `YYYY-MM-DDTHH:MM:SS+HH:MM`. */
  readonly now: string;
  /** The window's start as the host's wall clock, `YYYY-MM-DDTHH:MM:SS`. */
  readonly since: string;
  /** UFW's LOGLEVEL, empty if ufw.conf could not be read. */
  readonly logging: string;
  /** The files read, oldest first, or `journal`. */
  readonly sources: string[];
  readonly lines: string[];
}

const HEADER = /^#openclaw ([a-z]+)=(.*)$/;

export function readBlocksOutput(stdout: string): BlocksOutput {
  const header = new Map<string, string[]>();
  const lines: string[] = [];
  for (const line of stdout.split("\n")) {
    const h = HEADER.exec(line);
    if (h) header.set(h[1]!, [...(header.get(h[1]!) ?? []), h[2]!]);
    else if (line) lines.push(line);
  }
  const one = (key: string) => {
    const v = header.get(key)?.[0];
    if (v === undefined)
      throw new Error(`the host's reply has no ${key}: is this the blocks script's output?`);
    return v;
  };
  return {
    now: one("now"),
    since: one("since"),
    logging: one("logging"),
    sources: header.get("source") ?? [],
    lines,
  };
}
