// An ACME CA for the HTTPS tests, offline: Debian's pebble (RFC 8555 test server) in a booted
// sandbox's router namespace, validating HTTP-01 and TLS-ALPN-01 challenges for real (never
// PEBBLE_VA_ALWAYS_VALID): it connects to the test's domain on the server, as Let's Encrypt's
// validators would. Names resolve through hosts files: /etc/netns/NS/hosts in the namespaces the
// sandbox made (`ip netns exec` binds it over /etc/hosts; Sandbox.destroy removes /etc/netns/NS)
// and the booted host's own /etc/hosts for the CA's name.
//
// Two CAs, both made here for this sandbox: the listener's (openssl; the directory's own TLS,
// what Caddy's `acme_ca_root` trusts) and the one Pebble makes at each start and issues from
// (its management endpoint's /roots/0: what a client of the site trusts, and nothing else).
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BootedHost } from "../host/bootedHost";

/** The operator's domain in the tests: a documentation name (RFC 2606), resolved by hosts files. */
export const TEST_DOMAIN = "gateway.example.com";
/** The CA's name, resolved to the router's address on each link. */
export const ACME_HOST = "acme.example.net";
const ACME_PORT = 14000;
const MANAGEMENT_PORT = 15000;

export interface Pebble {
  /** The ACME directory URL, as a host configures it. */
  readonly directory: string;
  /** PEM: the CA that signed the directory's TLS certificate (Caddy's `acme_ca_root`). */
  readonly listenerCa: string;
  /** PEM: the root Pebble issues from in this run (what a client of the site trusts). */
  readonly root: string;
  /** Pebble's own log so far (its validations and issuances). */
  log(): string;
  close(): void;
}

export interface PebbleOptions {
  /** The issued certificates' lifetime in seconds (Pebble 2.4's `certificateValidityPeriod`); Pebble's default is 5 years. */
  readonly validitySeconds?: number;
}

/** The router's address on each peer's link: how the peer reaches the CA. */
function routerAddressFor(host: BootedHost, ns: string): string {
  if (ns === host.untrusted.ns) return "203.0.113.1";
  if (ns === host.admin.ns) return "198.51.100.1";
  return "192.168.1.1";
}

/**
 * Writes the names: in the router and the peers, TEST_DOMAIN is the server and ACME_HOST the
 * router; in the booted host too. Only in namespaces this sandbox made.
 */
function writeHostsFiles(host: BootedHost): void {
  for (const ns of [host.router, host.trusted.ns, host.untrusted.ns, host.admin.ns]) {
    const acme = ns === host.router ? "127.0.0.1" : routerAddressFor(host, ns);
    fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    fs.writeFileSync(
      `/etc/netns/${ns}/hosts`,
      [
        "127.0.0.1 localhost",
        "::1 localhost",
        `${host.server.v4} ${TEST_DOMAIN}`,
        `${host.server.v6} ${TEST_DOMAIN}`,
        `${acme} ${ACME_HOST}`,
        "",
      ].join("\n"),
    );
  }
  // The host's own name resolves to its own addresses, as the operator's DNS record makes it.
  fs.appendFileSync(
    path.join(host.root, "etc/hosts"),
    `192.168.1.1 ${ACME_HOST}\n${host.server.v4} ${TEST_DOMAIN}\n${host.server.v6} ${TEST_DOMAIN}\n`,
  );
}

/** The listener's CA and its certificate for ACME_HOST, made with openssl in `dir`. */
function makeListenerCertificate(dir: string): void {
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
  openssl([
    ...["req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2", "-out", "ca.pem"],
    ...["-subj", "/CN=openclaw-server tests: pebble listener CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "listener.key"]);
  openssl(["req", "-new", "-key", "listener.key", "-subj", `/CN=${ACME_HOST}`, "-out", "listener.csr"]);
  fs.writeFileSync(
    path.join(dir, "listener.ext"),
    [
      `subjectAltName=DNS:${ACME_HOST}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  openssl([
    ...["x509", "-req", "-in", "listener.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
    ...["-days", "2", "-sha256", "-extfile", "listener.ext", "-out", "listener.pem"],
  ]);
}

/**
 * Starts Pebble in `host`'s router namespace, after writing the hosts files, and waits until its
 * directory answers over TLS its own CA vouches for. close() stops it by its pid.
 */
export async function startPebble(host: BootedHost, options: PebbleOptions = {}): Promise<Pebble> {
  const dir = path.join(host.dir, "pebble");
  fs.mkdirSync(dir);
  makeListenerCertificate(dir);
  writeHostsFiles(host);
  fs.writeFileSync(
    path.join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        // Every address the router has, IPv4 and IPv6.
        listenAddress: `:${ACME_PORT}`,
        managementListenAddress: `:${MANAGEMENT_PORT}`,
        certificate: path.join(dir, "listener.pem"),
        privateKey: path.join(dir, "listener.key"),
        // The real challenge ports, as a public CA validates them.
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }),
  );
  const logFile = path.join(dir, "pebble.log");
  const out = fs.openSync(logFile, "a");
  // NOSLEEP: no random wait before each validation (it still happens). No nonces rejected at
  // random and no authorization reused: every order is validated anew, a renewal too.
  const child: ChildProcess = spawn(
    "ip",
    [
      ...["netns", "exec", host.router, "env", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"],
      ...["PEBBLE_AUTHZREUSE=0", "pebble", "-strict=false", "-config", path.join(dir, "pebble.json")],
    ],
    { stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  const close = () => {
    try {
      process.kill(child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const curl = (url: string) =>
    execFileSync(
      "ip",
      [
        "netns",
        "exec",
        host.router,
        "curl",
        "-fsS",
        "--max-time",
        "5",
        "--cacert",
        path.join(dir, "ca.pem"),
        url,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
  const directory = `https://${ACME_HOST}:${ACME_PORT}/dir`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      curl(directory);
      break;
    } catch (e) {
      if (exited !== undefined || Date.now() > deadline) {
        close();
        throw new Error(
          `pebble did not serve its directory (${exited !== undefined ? `exited ${exited}` : "30 s"}): ${String(e)}\n${fs.readFileSync(logFile, "utf8")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const root = curl(`https://${ACME_HOST}:${MANAGEMENT_PORT}/roots/0`);
  return {
    directory,
    listenerCa: fs.readFileSync(path.join(dir, "ca.pem"), "utf8"),
    root,
    log: () => fs.readFileSync(logFile, "utf8"),
    close,
  };
}

/** Why Pebble cannot run here, or undefined when it can. */
export function pebbleUnavailable(): string | undefined {
  return spawnSync("sh", ["-c", "command -v pebble"]).status === 0 ? undefined : "needs pebble (see .ci/run)";
}
