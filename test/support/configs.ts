import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import type { FirewallConfig, OutgoingConfig } from "../../components/policy/types";

/** A small valid config; tests derive bad ones from it one change at a time. */
export function validConfig(): FirewallConfig {
  return {
    ssh: { port: 22, adminCidrs: ["203.0.113.50/32"] },
    services: [{ name: "openclaw-api", port: 8000, protocol: "tcp", sources: ["192.168.1.0/24"] }],
  };
}

/**
 * A list of ports and ranges as a stack file may write them (`[8000, "8080-8090"]`), in the
 * args' form: numbers in `ports`, ranges in `portRanges`.
 */
export function splitPorts(list: readonly (number | string)[]): { ports?: number[]; portRanges?: string[] } {
  const ports = list.filter((p): p is number => typeof p === "number");
  const portRanges = list.filter((p): p is string => typeof p === "string");
  return { ...(ports.length ? { ports } : {}), ...(portRanges.length ? { portRanges } : {}) };
}

/**
 * The outgoing allow-list the README shows (its first YAML block under "Outgoing allow-list"),
 * read from the README itself, so the tests apply it as written.
 */
export function readmeOutgoing(): OutgoingConfig {
  const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Outgoing allow-list"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("the README has no YAML block under 'Outgoing allow-list'");
  return (YAML.parse(block[1]!) as { outgoing: OutgoingConfig }).outgoing;
}
