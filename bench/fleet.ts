// Evaluates one stack of N OpenClawServer instances (Hetzner) under Pulumi mocks and waits for
// every output: the cost of the program itself, without an engine or a cloud.
// Usage: node --import tsx bench/fleet.ts N   (prints the resource count)
import * as pulumi from "@pulumi/pulumi";
import { promiseOf, registrations } from "../test/support/mocks";
import { OpenClawServer } from "../components";

const count = Number(process.argv[2]);
const firewall = {
  ssh: { adminCidrs: ["198.51.100.10/32", "2001:db8:2000::10/128"] },
  services: [
    { name: "openclaw-gateway", port: 18789, sources: ["198.51.100.0/24", "2001:db8:2000::/48"] },
    { name: "web", ports: [80, 443], sources: ["0.0.0.0/0", "::/0"], public: true },
  ],
};
const servers = Array.from(
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
void promiseOf(pulumi.all(servers.map((s) => s.hostFirewallStatus))).then(() => {
  process.stdout.write(`${registrations.length}\n`);
});
