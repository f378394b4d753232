import { isWorld } from "../policy/cidr";
import { formatPortRange } from "../policy/ports";
import { type FirewallPolicy, outboundRules } from "../policy/types";

/** Our chain, jumped to from Docker's DOCKER-USER chain; Docker and the operator own the rest. */
export const DOCKER_CHAIN = "openclaw-docker-user";

/** UFW's own logging of a blocked packet (its after-logging chains): same rate, same prefix. */
const BLOCK_LOG = '-m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "';

/** Docker's bridges: the default one, and one `br-<id>` per network a user creates. */
const DOCKER_BRIDGES = ["docker0", "br-+"];

/** Forwarded connections Docker did not publish: containers' own, and others the host routes. */
const NOT_PUBLISHED = "-m conntrack ! --ctstate DNAT";

/**
 * The policy for forwarded traffic, as iptables rules of our chain, per family. Docker forwards
 * a published port (DNAT, then FORWARD) and never passes UFW's input rules, so these match the
 * connection's original destination port, before Docker rewrote it:
 * - established traffic returns to Docker's rules untouched;
 * - a connection Docker did not publish returns too when outgoing traffic is allowed; when it is
 *   denied, only one between containers (out through a Docker bridge) or to a destination the
 *   outgoing allow-list admits returns, and the rest is dropped: containers' own outgoing
 *   traffic follows the host's allow-list;
 * - a published connection the policy admits (service port and source) returns to Docker, which
 *   accepts it;
 * - every other published connection is dropped: the host's default is deny incoming.
 * Unless logging is off, each drop is logged first the way UFW logs its own blocks (prefix,
 * rate), so it reaches ufw.log through rsyslog's `[UFW ` filter and `npm run blocks` as
 * forwarded traffic. SSH is not a Docker service and is left to UFW. Rate limits are not applied
 * here. With IPv6 off, the host takes no IPv6 at all, so neither do its containers: the IPv6
 * chain drops everything.
 */
export function renderDockerRules(policy: FirewallPolicy): { v4: string[]; v6: string[] } {
  return {
    v4: familyRules(policy, 4),
    v6: policy.ipv6 ? familyRules(policy, 6) : drop(policy, ""),
  };
}

function familyRules(policy: FirewallPolicy, family: 4 | 6): string[] {
  const out = [`-A ${DOCKER_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  if (policy.outgoing.policy === "allow") {
    out.push(`-A ${DOCKER_CHAIN} ${NOT_PUBLISHED} -j RETURN`);
  } else {
    for (const bridge of DOCKER_BRIDGES)
      out.push(`-A ${DOCKER_CHAIN} -o ${bridge} ${NOT_PUBLISHED} -j RETURN`);
    for (const r of outboundRules(policy)) {
      if (r.destination.family !== family) continue;
      const to = isWorld(r.destination) ? "" : ` -d ${r.destination.text}`;
      out.push(
        `-A ${DOCKER_CHAIN}${to} -p ${r.protocol} -m ${r.protocol} --dport ${formatPortRange(r.ports, ":")} ${NOT_PUBLISHED} -j RETURN`,
      );
    }
    out.push(...drop(policy, ` ${NOT_PUBLISHED}`));
  }
  for (const service of policy.services) {
    for (const source of service.sources) {
      if (source.family !== family) continue;
      const from = isWorld(source) ? "" : ` -s ${source.text}`;
      for (const ports of service.ports) {
        out.push(
          `-A ${DOCKER_CHAIN}${from} -p ${service.protocol} -m conntrack --ctorigdstport ${formatPortRange(ports, ":")} -j RETURN`,
        );
      }
    }
  }
  out.push(...drop(policy, ""));
  return out;
}

/** Logs (unless logging is off) and drops what matches `match`. */
function drop(policy: FirewallPolicy, match: string): string[] {
  return [
    ...(policy.logging === "off" ? [] : [`-A ${DOCKER_CHAIN}${match} ${BLOCK_LOG}`]),
    `-A ${DOCKER_CHAIN}${match} -j DROP`,
  ];
}
