// The program of bench/fleet/Pulumi.yaml: fleet:count servers.
import * as pulumi from "@pulumi/pulumi";
import { createFleet } from "../fleetServers";

export const servers = createFleet(Number(new pulumi.Config("fleet").require("count"))).length;
