import * as path from "node:path";
import YAML from "yaml";
import type { FirewallConfig, OutgoingConfig } from "../../components/policy/types";
import { docProgram } from "./markdown";

const ROOT = path.join(__dirname, "..", "..");

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
 * The outgoing allow-list docs/configuration.md shows (`<!-- program: outgoing-allow-list -->`),
 * read from the page itself, so the tests apply it as written.
 */
export function documentedOutgoing(): OutgoingConfig {
  const block = docProgram(ROOT, "outgoing-allow-list");
  return (YAML.parse(block.text) as { outgoing: OutgoingConfig }).outgoing;
}
