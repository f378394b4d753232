/**
 * What `openclaw.https` asks of the firewall policy, and what it adds to it. Checked: the
 * `openclaw-https` service says who reaches the proxy on 443/tcp; nothing else may hold 443 or
 * 80/tcp (Caddy's), nor admit the gateway's own port from beyond loopback. Added: the
 * `openclaw-acme-http` service, 80/tcp from anywhere, which every layer renders. Pure.
 */
import { type Cidr, cidr, contains, coversFamily } from "../policy/cidr";
import type { Findings } from "../policy/errors";
import type { FirewallPolicy, Service } from "../policy/types";
import { ACME_HTTP_SERVICE, GATEWAY_SERVICE, HTTPS_SERVICE, type HttpsSpec } from "./types";

export const HTTPS_PORT = 443;
export const ACME_HTTP_PORT = 80;
/** The derived service's description: what port 80 serves, in the plan and the rules' comments. */
export const ACME_HTTP_DESCRIPTION = "ACME HTTP-01 challenge and redirect to HTTPS";

export interface HttpsPolicyKeys {
  /** The firewall policy's key: `edge.firewall`, `openclaw:firewall`. */
  readonly firewall: string;
  /** The `https` block's key: `edge.openclaw.https`. */
  readonly https: string;
  /** A service's key as its author wrote it, by name: `<firewall>.services[i]`. */
  readonly service: (name: string) => string;
  /** The field its ports were written in: `port`, `ports` or `portRanges`. */
  readonly portField: (name: string) => string;
}

const LOOPBACK = [cidr("127.0.0.0/8"), cidr("::1/128")];
const isLoopback = (c: Cidr) => LOOPBACK.some((l) => contains(l, c));
const covers = (s: Service, port: number) =>
  s.protocol === "tcp" && s.ports.some((r) => r.from <= port && port <= r.to);
const describePorts = (s: Service) =>
  s.ports.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(", ");

/**
 * The sources of the policy's `openclaw-https` service (who may reach the proxy), or undefined
 * with the problems in `f`; a warning when 443 is narrower than port 80 must be.
 */
export function checkHttpsPolicy(
  f: Findings,
  keys: HttpsPolicyKeys,
  policy: FirewallPolicy,
  gatewayPort: number,
): string[] | undefined {
  const before = f.problems.length;
  const https = policy.services.find((s) => s.name === HTTPS_SERVICE);
  const example = `{ name: ${HTTPS_SERVICE}, port: ${HTTPS_PORT}, protocol: tcp, sources: [the networks that may open the gateway] }`;
  if (!https) {
    f.fail(
      `${keys.firewall}.services`,
      policy.services.map((s) => s.name),
      `has no service named ${HTTPS_SERVICE}, which says who may reach the proxy (${HTTPS_PORT}/tcp) when ${keys.https} is set`,
      `a service ${example} in ${keys.firewall}.services; sources ["0.0.0.0/0", "::/0"] with public: true for anyone`,
    );
  } else if (https.protocol !== "tcp") {
    f.fail(
      `${keys.service(HTTPS_SERVICE)}.protocol`,
      https.protocol,
      `is not the proxy's protocol: ${HTTPS_SERVICE} is who may reach HTTPS on ${HTTPS_PORT}/tcp`,
      `tcp (the default), as in ${example}`,
    );
  } else if (
    https.ports.length !== 1 ||
    https.ports[0]!.from !== HTTPS_PORT ||
    https.ports[0]!.to !== HTTPS_PORT
  ) {
    f.fail(
      `${keys.service(HTTPS_SERVICE)}.${keys.portField(HTTPS_SERVICE)}`,
      describePorts(https),
      `is not the proxy's port: Caddy serves the gateway on ${HTTPS_PORT}/tcp alone`,
      `port: ${HTTPS_PORT}, as in ${example}; other ports go in a service of another name`,
    );
  }
  for (const s of policy.services) {
    if (s.name === ACME_HTTP_SERVICE) {
      f.fail(
        `${keys.service(s.name)}.name`,
        s.name,
        `is the name of the service ${keys.https} adds (${ACME_HTTP_PORT}/tcp from anywhere, for ACME's HTTP-01 challenge and the redirect to HTTPS)`,
        "another name, or remove the service: the policy gets it by itself",
      );
      continue;
    }
    const port = `${keys.service(s.name)}.${keys.portField(s.name)}`;
    if (s.name !== HTTPS_SERVICE && covers(s, HTTPS_PORT)) {
      f.fail(
        port,
        describePorts(s),
        `admits ${HTTPS_PORT}/tcp, the proxy's port while ${keys.https} is set: who may reach it is the ${HTTPS_SERVICE} service's sources alone`,
        `the service without ${HTTPS_PORT}, its sources added to ${HTTPS_SERVICE}'s instead`,
      );
    }
    if (covers(s, ACME_HTTP_PORT)) {
      f.fail(
        port,
        describePorts(s),
        `admits ${ACME_HTTP_PORT}/tcp, which Caddy holds while ${keys.https} is set: it answers ACME's HTTP-01 challenge and redirects to HTTPS there, from anywhere (the service ${ACME_HTTP_SERVICE}), and nothing else can listen on it`,
        `the service without port ${ACME_HTTP_PORT}: the policy admits ${ACME_HTTP_PORT}/tcp from anywhere by itself while https is set`,
      );
    }
    const beyondLoopback = s.sources.filter((c) => !isLoopback(c));
    if (covers(s, gatewayPort) && beyondLoopback.length > 0) {
      f.fail(
        s.name === GATEWAY_SERVICE ? keys.service(s.name) : port,
        s.name === GATEWAY_SERVICE ? s.name : describePorts(s),
        `admits the gateway's port ${gatewayPort} from ${beyondLoopback.map((c) => c.text).join(", ")}, but with ${keys.https} the gateway stays on loopback behind the proxy: a client reaching it directly would bypass TLS`,
        `no service admitting ${gatewayPort} (remove ${s.name === GATEWAY_SERVICE ? "the service" : `${gatewayPort} from it`}); put who may open the gateway in ${HTTPS_SERVICE}'s sources (${HTTPS_PORT}/tcp) instead`,
      );
    }
  }
  if (f.problems.length > before || !https) return undefined;
  const open = coversFamily(https.sources, 4) && (!policy.ipv6 || coversFamily(https.sources, 6));
  if (!open) {
    f.warn(
      keys.service(HTTPS_SERVICE),
      `admits ${HTTPS_PORT} from ${https.sources.map((c) => c.text).join(", ")} only, but port ${ACME_HTTP_PORT} ` +
        `is opened to anyone (${ACME_HTTP_SERVICE}): the CA's validators connect from addresses it does not publish, ` +
        `so HTTP-01 needs ${ACME_HTTP_PORT} from the world. Caddy answers there the challenge and a redirect to ` +
        `HTTPS only; the gateway is not reachable over it. To keep ${ACME_HTTP_PORT} closed as well, get the ` +
        `certificate by DNS-01 through another setup (this component does not), or leave ${keys.https} unset and ` +
        `reach the gateway through the SSH tunnel (sshTunnelCommand)`,
    );
  }
  return https.sources.map((c) => c.text);
}

/**
 * The proxy's service left in the policy without the proxy (https turned off, or OpenClaw off):
 * every layer still admits 443, where nothing of ours listens. A warning, keyed by the service.
 */
export function strayHttpsWarning(policy: FirewallPolicy, serviceKey: string) {
  if (!policy.services.some((s) => s.name === HTTPS_SERVICE)) return undefined;
  return {
    key: serviceKey,
    message:
      `is ${HTTPS_SERVICE}, the proxy's service, but openclaw.https is not in effect (unset, or OpenClaw ` +
      `not installed): every layer still admits ${HTTPS_PORT}/tcp from its sources, and no proxy of ours ` +
      `listens there. Remove the service to close ${HTTPS_PORT}, or set openclaw.https`,
  };
}

/**
 * A NAT router in front of an existing host must forward 80 and 443 to it, or neither the CA's
 * validators nor the clients reach Caddy: a warning naming the ports it does not forward.
 */
export function routerWarning(forwards: readonly { from: number; to: number }[], key: string) {
  const missing = [ACME_HTTP_PORT, HTTPS_PORT].filter((p) => !forwards.some((f) => f.from <= p && p <= f.to));
  if (missing.length === 0) return undefined;
  return {
    key,
    message:
      `does not forward ${missing.join(" and ")}/tcp, which openclaw.https needs from the internet: ` +
      `${ACME_HTTP_PORT} for the CA's HTTP-01 challenge (the certificate is not issued without it), ` +
      `${HTTPS_PORT} for the clients. Forward both to the host on the router`,
  };
}

/**
 * The policy every layer renders: the declared one, plus with `https` the service
 * `openclaw-acme-http`, 80/tcp from anywhere (IPv4, and IPv6 when the policy enforces it).
 */
export function withAcmeHttp(policy: FirewallPolicy, https: HttpsSpec | undefined): FirewallPolicy {
  if (!https) return policy;
  const acme: Service = {
    name: ACME_HTTP_SERVICE,
    description: ACME_HTTP_DESCRIPTION,
    protocol: "tcp",
    ports: [{ from: ACME_HTTP_PORT, to: ACME_HTTP_PORT }],
    sources: [cidr("0.0.0.0/0"), ...(policy.ipv6 ? [cidr("::/0")] : [])],
    rateLimit: false,
  };
  // The parser's order: services by name.
  const services = [...policy.services, acme].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return { ...policy, services };
}
