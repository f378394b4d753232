import { parseHostKey } from "../ssh/hostKey";
import { formatWarning } from "../policy/errors";
import { formatPortRange } from "../policy/ports";
import type { StackSettings } from "../stack/settings";
import { renderAwsRules } from "../cloud/awsRules";
import { DOCKER_CHAIN } from "../hardening/dockerRules";
import { renderHcloudRules } from "../cloud/hcloudRules";
import { SSH_REPLIES_CHAIN } from "../hardening/sshReplies";
import { columns, renderAdmittedTable } from "./table";
import { renderUfwRules } from "../hardening/ufwRules";
import { isPrivateAddress } from "../policy/cidr";
import { ACME_HTTP_PORT, HTTPS_PORT } from "../openclaw/httpsPolicy";
import { ACME_HTTP_SERVICE, DEFAULT_ACME_DIRECTORY, HTTPS_SERVICE, type HttpsSpec } from "../openclaw/types";

function describeTarget(s: StackSettings): string {
  switch (s.target.kind) {
    case "aws":
      return `AWS EC2 ${s.target.instanceType}; cloud firewall: security group, host firewall: UFW`;
    case "hcloud":
      return `Hetzner Cloud ${s.target.serverType} in ${s.target.location}; cloud firewall: Hetzner firewall, host firewall: UFW`;
    case "existing":
      return `existing host ${s.target.address} (SSH port ${s.target.sshPort}); no cloud firewall: UFW on the host is the only layer`;
  }
}

/** Our chains beside UFW's rules, and what each holds. */
function describeOwnChains(s: StackSettings): string[] {
  const deny = s.policy.outgoing.policy === "deny";
  return [
    ...(s.hardening.docker
      ? [
          `chain ${DOCKER_CHAIN} (from Docker's DOCKER-USER): published ports as admitted above` +
            (deny ? "; containers' new connections by the outgoing allow-list" : "") +
            (s.policy.ipv6 ? "" : "; all forwarded IPv6 dropped"),
        ]
      : []),
    ...(deny
      ? [
          `chain ${SSH_REPLIES_CHAIN} (from UFW's after-output): sshd's packets out without SYN, from port ${s.policy.ssh.ports.map((p) => formatPortRange(p)).join(", ")}`,
        ]
      : []),
  ];
}

function describeOpenClaw(s: StackSettings): string {
  const o = s.openclaw;
  if (!o) return "(not installed: openclaw:openclaw.enabled is false, the default on an existing host)";
  const node =
    o.node.kind === "apt"
      ? `Node ${o.node.version} from apt (${o.node.source})`
      : `Node ${o.node.version} (tarball from ${o.node.distUrl}${o.node.sha256 ? `, sha256 ${o.node.sha256}` : ""})`;
  return [
    `openclaw ${o.version} from ${o.npmRegistry}, on ${node}`,
    o.https
      ? `gateway: port ${o.port}, bound to loopback behind the proxy (and through the SSH tunnel, sshTunnelCommand)`
      : o.bind === "lan"
        ? `gateway: port ${o.port}, bound to the LAN with token auth, reachable from ${o.exposedTo.join(", ")}`
        : `gateway: port ${o.port}, bound to loopback: reached through the SSH tunnel (sshTunnelCommand)`,
    ...(o.https ? [describeHttps(s, o.https, o.port)] : []),
    `mDNS: ${o.mdns ? "on (the policy admits 5353/udp)" : "off"}; on destroy: ${o.removeOnDestroy ? "stopped and removed" : "left running"}`,
  ].join("\n");
}

/** The proxy in front of the gateway: where it comes from, its domain and CA, who reaches it, the DNS record. */
function describeHttps(s: StackSettings, h: HttpsSpec, port: number): string {
  const caddy =
    h.caddy.kind === "apt" ? `Caddy from apt (${h.caddy.source})` : "Caddy from the distribution's packages";
  const ca =
    h.acmeDirectory === DEFAULT_ACME_DIRECTORY ? `${h.acmeDirectory} (Let's Encrypt)` : h.acmeDirectory;
  const roots = h.acmeRoot ? (h.acmeRoot.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length : 0;
  return [
    `proxy: ${caddy}, on ${HTTPS_PORT}/tcp (TLS) and ${ACME_HTTP_PORT}/tcp, in front of the gateway at 127.0.0.1:${port}`,
    `domain: ${h.domain}; gatewayUrl https://${h.domain}/`,
    `CA: ACME directory ${ca}, HTTP-01 challenge, account ${h.email}` +
      (roots > 0
        ? `; trusted roots: ${roots} certificate${roots === 1 ? "" : "s"} from openclaw.https.acmeRoot`
        : ""),
    `reached: ${HTTPS_PORT}/tcp from ${h.sources.join(", ")} (${HTTPS_SERVICE}); ${ACME_HTTP_PORT}/tcp from anyone ` +
      `(${ACME_HTTP_SERVICE}), for the ACME challenge and the redirect to HTTPS only`,
    "DNS, yours to create (the certificate cannot be issued until it resolves to the server):",
    ...dnsRecords(s, h.domain).map((r) => `  ${r}`),
  ].join("\n");
}

/** The records the domain needs: the existing host's address, or where a new VM's will be. */
function dnsRecords(s: StackSettings, domain: string): string[] {
  const ipv6 = s.policy.ipv6;
  if (s.target.kind === "existing") {
    const address = s.target.address;
    const type = address.includes(":") ? "AAAA" : "A";
    return isPrivateAddress(address)
      ? [
          `${type} ${domain} -> the public address of the router in front of ${address} (a private address), ` +
            `which must forward ${ACME_HTTP_PORT} and ${HTTPS_PORT}/tcp to it`,
        ]
      : [`${type} ${domain} -> ${address}`];
  }
  return [
    `A ${domain} -> the server's public IPv4, known once it is created: the output publicIpv4 (pulumi stack output publicIpv4)`,
    ...(ipv6
      ? [
          `AAAA ${domain} -> its public IPv6, when it has one: the output publicIpv6 (without one, no AAAA record)`,
        ]
      : []),
  ];
}

/** How the SSH steps know the host is the host: the stack's trust model for its SSH host key. */
function describeHostKey(s: StackSettings): string {
  const pinned = s.sshHostKey === undefined ? undefined : parseHostKey(s.sshHostKey);
  if (pinned?.ok)
    return [
      `pinned in openclaw:sshHostKey: ${pinned.key.type} ${pinned.key.fingerprint}.`,
      "Every SSH step accepts this key alone, and each pulumi up reads the host's key first: another",
      "key fails the run, naming both, before any step has sent anything.",
    ].join("\n");
  return [
    "trust on first use: openclaw:sshHostKey is not set.",
    "the first pulumi up takes the key the host presents (openclaw-host-key, kept in the stack's state;",
    "taken again only for a replaced VM, or a new address or port of an existing host), and every SSH",
    "step accepts that key alone; each later pulumi up reads the host's key first, and another key",
    "fails the run before any step has sent anything.",
    "The limit: a machine posing as the host at that first contact is trusted, and gets the secrets.",
    "To rule it out, set openclaw:sshHostKey to the host's key, checked on its console or the cloud's",
    "(a first run with openclaw:openclaw enabled: false sends no secret).",
  ].join("\n");
}

/** The offline plan: everything `pulumi up` would enforce, without touching a cloud or a host. */
export function renderPlan(stack: string, s: StackSettings): string {
  const aws = renderAwsRules(s.policy).map((r) => [
    r.direction,
    r.ipProtocol === "-1" ? "all" : r.ipProtocol,
    r.fromPort === undefined
      ? "all"
      : r.fromPort === r.toPort
        ? String(r.fromPort)
        : `${r.fromPort}-${r.toPort}`,
    r.cidrIpv4 ?? r.cidrIpv6 ?? "",
    r.key,
  ]);
  const hcloud = renderHcloudRules(s.policy).map((r) => [
    r.direction,
    r.protocol,
    r.port ?? "-",
    (r.sourceIps ?? r.destinationIps ?? []).join(", "),
  ]);
  const applies = (kind: string) => (s.target.kind === kind ? " (this stack)" : " (not used by this stack)");
  const sections = [
    `Stack ${stack}: ${describeTarget(s)}`,
    `== Admitted traffic ==\n${renderAdmittedTable(s.policy, s.hardening.docker)}`,
    `== AWS security group rules${applies("aws")} ==\n${columns([["DIR", "PROTO", "PORTS", "CIDR", "RESOURCE"], ...aws])}`,
    `== Hetzner firewall rules${applies("hcloud")} ==\n${
      hcloud.length > 0 ? columns([["DIR", "PROTO", "PORT", "ADDRESSES"], ...hcloud]) : "(none)"
    }${s.policy.outgoing.policy === "allow" ? "\n(outgoing: no out rules, so Hetzner allows all outgoing traffic)" : ""}`,
    `== UFW on the host ==\n${[
      `defaults: deny incoming, ${s.policy.outgoing.policy} outgoing; logging ${s.policy.logging}; IPV6=${s.policy.ipv6 ? "yes" : "no"}`,
      "rules, as `ufw show added` prints them:",
      ...renderUfwRules(s.policy),
      ...describeOwnChains(s),
    ].join("\n")}`,
    `== SSH host key ==\n${describeHostKey(s)}`,
    `== OpenClaw ==\n${describeOpenClaw(s)}`,
    `== Warnings ==\n${s.warnings.length === 0 ? "(none)" : s.warnings.map((w) => `- ${formatWarning(w)}`).join("\n")}`,
  ];
  return sections.join("\n\n") + "\n";
}
