// Bash 5.1 (Ubuntu 22.04's and Debian 11's), whose parser of here-documents inside $(…) differs
// from 5.2's: fetched by fetch-bash51.sh (which .ci/run runs) into a cache directory.
import * as fs from "node:fs";
import * as path from "node:path";

export const FETCH_BASH51 = path.join(__dirname, "fetch-bash51.sh");

/** The bash 5.1 binary in the cache, or undefined when fetch-bash51.sh has not run. */
export function bash51(): string | undefined {
  const cache = process.env["OPENCLAW_BASH51_CACHE"] ?? "/var/cache/openclaw-bash51";
  const bash = path.join(cache, "root", "bin", "bash");
  return fs.existsSync(bash) ? bash : undefined;
}
