import { isWorld } from "../policy/cidr";
import { formatPortRange } from "../policy/ports";
import { type FirewallPolicy, inboundRules, outboundRules } from "../policy/types";
import { ACME_HTTP_SERVICE } from "../openclaw/types";

/** Aligns rows into columns separated by two spaces; the first row is the header. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * Who may reach which port, over which protocol and address family: the policy for humans.
 * `docker` is `hardening.docker`: whether the outgoing allow-list also holds for containers.
 */
export function renderAdmittedTable(policy: FirewallPolicy, docker = true): string {
  const rows = inboundRules(policy).map((r) => [
    r.owner,
    r.protocol,
    formatPortRange(r.ports),
    `IPv${r.source.family}`,
    isWorld(r.source) ? `${r.source.text} (anyone)` : r.source.text,
    r.rateLimit ? "limit 6/30s" : "-",
  ]);
  const acme = policy.services.find((s) => s.name === ACME_HTTP_SERVICE);
  const lines = [
    columns([["SERVICE", "PROTO", "PORT", "FAMILY", "SOURCE", "RATE"], ...rows]),
    "",
    ...(acme
      ? [
          `${ACME_HTTP_SERVICE}: port ${acme.ports.map((p) => formatPortRange(p)).join(", ")} serves ACME's HTTP-01 ` +
            "challenge, from anyone (the CA's validators), and a redirect to HTTPS: nothing else, the gateway is not " +
            "reachable over it. Added by openclaw.https.",
        ]
      : []),
    `Incoming: everything else is denied${policy.ipv6 ? ", on IPv4 and IPv6" : "; IPv6 is dropped entirely"}.`,
  ];
  if (policy.outgoing.policy === "allow") {
    lines.push("Outgoing: allowed to anywhere.");
  } else {
    lines.push(
      docker
        ? "Outgoing: denied, for the host and its Docker containers, except to:"
        : "Outgoing: denied for the host (not for its Docker containers: hardening.docker is false) except to:",
    );
    const out = outboundRules(policy).map((r) => [
      r.owner,
      r.protocol,
      formatPortRange(r.ports),
      `IPv${r.destination.family}`,
      r.destination.text,
    ]);
    lines.push(columns([["NAME", "PROTO", "PORT", "FAMILY", "DESTINATION"], ...out]));
  }
  lines.push(`Logging: ${policy.logging}.`);
  return lines.join("\n");
}
