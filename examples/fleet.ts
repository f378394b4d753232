// Importing OpenClawServer into another stack: two Hetzner servers sharing one policy, and the
// office's existing box. Run it as a Pulumi program (main: examples/fleet.ts) or read it as a
// template; the tests evaluate it under mocks.
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import { type FirewallConfig, OpenClawServer } from "../components";

const config = new pulumi.Config("fleet");
const privateKey = config.requireSecret("sshPrivateKey");
const publicKey = config.require("sshPublicKey");

// One policy for the whole fleet: the gateway from the office and the VPN only.
const firewall: FirewallConfig = {
  ssh: { adminCidrs: ["198.51.100.10/32", "2001:db8:2000::10/128"] },
  services: [
    {
      name: "openclaw-gateway",
      description: "OpenClaw gateway",
      port: 18789,
      sources: ["198.51.100.0/24", "2001:db8:2000::/48"],
    },
  ],
};

// Hetzner holds each public key once per project: both servers name one key. Its name is fixed,
// so a new public key replaces only the key (deleted first, as the name is taken), not a server.
const deployKeyName = `fleet-${pulumi.getStack()}-deploy`;
export const deployKey = new hcloud.SshKey(
  "fleet-deploy-key",
  { name: deployKeyName, publicKey },
  { deleteBeforeReplace: true },
);

export const servers = ["agent-eu", "agent-us"].map(
  (name, i) =>
    new OpenClawServer(
      name,
      {
        firewall,
        hcloud: {
          serverType: "cx23",
          location: ["fsn1", "ash"][i]!,
          sshKey: deployKeyName,
          publicKey,
        },
        ssh: { privateKey },
      },
      { dependsOn: [deployKey] },
    ),
);

export const office = new OpenClawServer("office", {
  firewall: { ...firewall, ssh: { adminCidrs: ["192.168.10.0/24"] } },
  existing: { address: "192.168.10.5" },
  ssh: { user: "ops", privateKey },
  hardening: { timeout: "5m" },
});

export const sshCommands = pulumi.all([...servers, office].map((s) => s.sshCommand));
