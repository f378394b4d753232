// The stack program behind `pulumi up`: one OpenClawServer from the stack's config.
import { runStackProgram } from "./components/stack/program";

const server = runStackProgram();

export const publicIpv4 = server.publicIpv4;
export const publicIpv6 = server.publicIpv6;
export const sshCommand = server.sshCommand;
export const sshHostKey = server.sshHostKey;
export const sshHostKeyFingerprint = server.sshHostKeyFingerprint;
export const cloudFirewallId = server.cloudFirewallId;
export const firewallLayers = server.firewallLayers;
export const admittedTraffic = server.admittedTraffic;
export const hostFirewallStatus = server.hostFirewallStatus;
export const gatewayUrl = server.gatewayUrl;
export const sshTunnelCommand = server.sshTunnelCommand;
export const gatewayToken = server.gatewayToken;
export const openclawVersion = server.openclawVersion;
