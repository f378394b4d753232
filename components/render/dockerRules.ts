import { isWorld } from "../policy/cidr";
import { formatPortRange } from "../policy/ports";
import type { FirewallPolicy } from "../policy/types";

/** Our chain, jumped to from Docker's DOCKER-USER chain; Docker and the operator own the rest. */
export const DOCKER_CHAIN = "openclaw-docker-user";

/** UFW's own logging of a blocked packet (its after-logging chains): same rate, same prefix. */
const BLOCK_LOG = '-m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "';

/**
 * The policy for ports Docker publishes, as iptables rules of our chain, per family. Docker
 * forwards a published port (DNAT, then FORWARD) and never passes UFW's input rules, so these
 * match the connection's original destination port, before Docker rewrote it:
 * - established traffic and connections Docker did not publish (containers' own outgoing
 *   traffic, container to container) go back to Docker's rules untouched;
 * - a published connection the policy admits (service port and source) returns to Docker, which
 *   accepts it;
 * - every other published connection is dropped: the host's default is deny incoming. Unless
 *   logging is off, it is logged first the way UFW logs its own blocks (prefix, rate), so it
 *   reaches ufw.log through rsyslog's `[UFW ` filter and `npm run blocks` as forwarded traffic.
 * SSH is not a Docker service and is left to UFW. Rate limits are not applied here.
 */
export function renderDockerRules(policy: FirewallPolicy): { v4: string[]; v6: string[] } {
  const rules = { v4: [] as string[], v6: [] as string[] };
  for (const family of ["v4", "v6"] as const) {
    const out = rules[family];
    out.push(`-A ${DOCKER_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
    out.push(`-A ${DOCKER_CHAIN} -m conntrack ! --ctstate DNAT -j RETURN`);
    for (const service of policy.services) {
      for (const source of service.sources) {
        if (`v${source.family}` !== family) continue;
        const from = isWorld(source) ? "" : ` -s ${source.text}`;
        for (const ports of service.ports) {
          out.push(
            `-A ${DOCKER_CHAIN}${from} -p ${service.protocol} -m conntrack --ctorigdstport ${formatPortRange(ports, ":")} -j RETURN`,
          );
        }
      }
    }
    if (policy.logging !== "off") out.push(`-A ${DOCKER_CHAIN} ${BLOCK_LOG}`);
    out.push(`-A ${DOCKER_CHAIN} -j DROP`);
  }
  return rules;
}
