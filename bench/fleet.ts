// Evaluates one stack of N OpenClawServer instances (Hetzner) under Pulumi mocks and waits for
// every output: the cost of the program itself, without an engine or a cloud.
// Usage: node --import tsx bench/fleet.ts N
// Prints, as its last line, the resource count and the milliseconds from the process's start
// until all registered (the program's own log lines come before it).
import * as pulumi from "@pulumi/pulumi";
import { promiseOf, registrations } from "../test/support/pulumi/mocks";
import { createFleet } from "./fleetServers";

const servers = createFleet(Number(process.argv[2]));
void promiseOf(pulumi.all(servers.map((s) => s.hostFirewallStatus))).then(() => {
  process.stdout.write(`${registrations.length} ${performance.now().toFixed(0)}\n`);
});
