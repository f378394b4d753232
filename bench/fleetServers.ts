// The fleet both fleet benchmarks build: N OpenClawServer instances on Hetzner sharing one policy.
import * as pulumi from "@pulumi/pulumi";
import { OpenClawServer } from "../components";

const firewall = {
  ssh: { adminCidrs: ["198.51.100.10/32", "2001:db8:2000::10/128"] },
  services: [
    { name: "openclaw-gateway", port: 18789, sources: ["198.51.100.0/24", "2001:db8:2000::/48"] },
    { name: "web", ports: [80, 443], sources: ["0.0.0.0/0", "::/0"], public: true },
  ],
};

export function createFleet(count: number): OpenClawServer[] {
  return Array.from(
    { length: count },
    (_, i) =>
      new OpenClawServer(`agent-${i}`, {
        firewall,
        hcloud: {
          serverType: "cx23",
          location: "fsn1",
          // One key for the fleet, already in the project: Hetzner holds a public key once.
          sshKey: "bench-fleet",
          publicKey: "ssh-ed25519 AAAAC3Nza bench",
        },
        ssh: {
          privateKey: pulumi.secret(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n",
          ),
        },
      }),
  );
}
