import type { FirewallConfig } from "../../components/policy/types";

/** A small valid config; tests derive bad ones from it one change at a time. */
export function validConfig(): FirewallConfig {
  return {
    ssh: { port: 22, adminCidrs: ["203.0.113.50/32"] },
    services: [{ name: "openclaw-api", port: 8000, protocol: "tcp", sources: ["192.168.1.0/24"] }],
  };
}
