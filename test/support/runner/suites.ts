// The test suites (one per test file) and their measured shares of the machine, which
// `npm run test:measure` writes to test/suites.json and the runner schedules by.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Suite, type SuiteCost, defaultCost } from "./schedule";

export const SUITE_DIRS = ["test/unit", "test/component", "test/host"];

/** What test/suites.json holds. */
export interface SuiteCosts {
  /** When and where the shares were measured, and how. */
  readonly measured: { readonly date: string; readonly machine: string; readonly command: string };
  /** Each suite's share; `measuredOn` where it was measured apart from the rest (a partial run). */
  readonly suites: Record<string, SuiteCost & { readonly measuredOn?: string }>;
}

export function costsFile(root: string): string {
  return path.join(root, "test", "suites.json");
}

/** Every suite, as a path relative to `root`, in directory order. */
export function allSuites(root: string): string[] {
  return SUITE_DIRS.flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir))
      .filter((f) => f.endsWith(".test.ts"))
      .sort()
      .map((f) => `${dir}/${f}`),
  );
}

export function loadCosts(root: string): SuiteCosts | undefined {
  const file = costsFile(root);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as SuiteCosts) : undefined;
}

/** `files` with their measured shares, or the default share where none was measured. */
export function planSuites(root: string, files: string[]): Suite[] {
  const costs = loadCosts(root)?.suites ?? {};
  return files.map((file) => ({ file, cost: costs[file] ?? defaultCost(file), measured: file in costs }));
}
