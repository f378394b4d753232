// A sandbox host made of Linux network namespaces, for the host tests and the benchmarks:
//
//   trusted  192.168.1.10   2001:db8:1::10  ─┐ LAN bridge
//   server   192.168.1.100  2001:db8:1::100 ─┘ (sshd, listeners, its own /etc/ufw)
//                                             router ── untrusted 203.0.113.10  2001:db8:2::10
//                                                    └─ admin     198.51.100.10 2001:db8:3::10
//
// The server's addresses are the seed's home server's. `ip netns exec` bind-mounts
// /etc/netns/NAME/* over /etc, so the server has its own /etc/ufw and /etc/default and the
// machine's own firewall is never touched. Its sshd also has its own /var/log, bind-mounted
// in the mount namespace `ip netns exec` made for it, so its SSH sessions read the sandbox's
// UFW log and journal (see captureLog), and its own /run. Everything made here is named from
// one random id and removed by that id in destroy(), whatever state a test left it in.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Outcome, RoundRequest, RoundResult, Target, WatchResult } from "./netprobe";
import {
  DEFAULT_VERDICT_OPTIONS,
  type Decision,
  type Round,
  type VerdictOptions,
  type Verdict,
  decide,
} from "./verdicts";

export interface Peer {
  readonly ns: string;
  readonly v4: string;
  readonly v6: string;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const NETPROBE = path.join(__dirname, "netprobe.ts");
/** The netlink group the server's UFW log rules send to (see captureLog). */
const NFLOG_GROUP = 7;
const JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote";
/** Ports the server listens on, so an open port answers and a blocked one times out. */
const LISTEN_PORTS = [8000, 8001, 8080, 9000, 9001, 3306];
/** The router's control listener (echo's port): what every peer's probe round must reach. */
const CONTROL_PORT = 7;

/** Probe rounds this process ran, and how many of them were void (see verdicts.ts). */
export const probeStats = { rounds: 0, voided: 0 };

/** Why the sandbox cannot run here, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create network namespaces (CI runs it as root)";
  for (const tool of ["ip", "ufw", "sshd", "ssh", "ssh-keygen", "iptables", "unshare"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool} (see .ci/run)`;
  }
  return undefined;
}

/** Why the sandbox cannot keep a UFW log or a journal (captureLog, moveLogToJournal), if so. */
export function logCaptureUnavailable(): string | undefined {
  if (spawnSync("sh", ["-c", "command -v ulogd"]).status !== 0) return "needs ulogd (ulogd2, see .ci/run)";
  if (!fs.existsSync(JOURNAL_REMOTE)) return `needs ${JOURNAL_REMOTE} (systemd-journal-remote, see .ci/run)`;
  return undefined;
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

// Sandboxes not yet destroyed: removed on exit, Ctrl-C or kill, whatever the caller missed.
process.once("exit", () => Sandbox.live.forEach((s) => s.destroy()));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => process.exit(130));
}

export class Sandbox {
  static readonly live = new Set<Sandbox>();
  readonly id = randomBytes(3).toString("hex");
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), `openclaw-sbx-${this.id}-`));
  readonly router = `oc${this.id}-router`;
  readonly server: Peer = { ns: `oc${this.id}-server`, v4: "192.168.1.100", v6: "2001:db8:1::100" };
  readonly trusted: Peer = { ns: `oc${this.id}-trusted`, v4: "192.168.1.10", v6: "2001:db8:1::10" };
  readonly untrusted: Peer = { ns: `oc${this.id}-untrusted`, v4: "203.0.113.10", v6: "2001:db8:2::10" };
  readonly admin: Peer = { ns: `oc${this.id}-admin`, v4: "198.51.100.10", v6: "2001:db8:3::10" };
  /** A "container" behind a bridge on the server, published the way Docker does (see publish()). */
  readonly container: Peer = { ns: `oc${this.id}-ctr`, v4: "172.17.0.2", v6: "fd00:17::2" };
  /** The root password the sandbox's sshd accepts until the hardening turns passwords off. */
  readonly rootPassword = randomBytes(9).toString("base64url");
  /** The deployer's key pair and the server's host key, made for this sandbox only. */
  readonly clientKey = path.join(this.dir, "client_ed25519");
  readonly hostKey = path.join(this.dir, "host_ed25519");
  readonly sshdLog = path.join(this.dir, "sshd.log");
  /** The server's /var/log, as its SSH sessions see it. */
  readonly varLog = path.join(this.dir, "varlog");
  /** Root's home on the server, as its SSH sessions see it: empty, as on a fresh host. */
  readonly rootHome = path.join(this.dir, "root-home");
  /** The hardening's sshd drop-in, as the machine sees the server's file. */
  get sshdDropIn(): string {
    return `/etc/netns/${this.server.ns}/ssh/sshd_config.d/00-openclaw.conf`;
  }
  /**
   * Where the hardening keeps its state on this host: the default path is the machine's, and
   * hardening.stateDir refuses shared directories such as /tmp, so it is this sandbox's own
   * directory under /var/lib, removed by destroy().
   */
  readonly stateDir = `/var/lib/openclaw-sandbox-${this.id}`;
  private readonly processes: ChildProcess[] = [];

  get namespaces(): string[] {
    return [
      this.router,
      this.server.ns,
      this.trusted.ns,
      this.untrusted.ns,
      this.admin.ns,
      this.container.ns,
    ];
  }

  /** Builds the namespaces, starts sshd and the listeners. Call destroy() in a finally/after. */
  async create(): Promise<this> {
    Sandbox.live.add(this);
    await this.createNetwork();
    // The server's own UFW state, copied from the machine's pristine package files.
    const etc = `/etc/netns/${this.server.ns}`;
    fs.mkdirSync(path.join(etc, "default"), { recursive: true });
    fs.cpSync("/etc/ufw", path.join(etc, "ufw"), { recursive: true });
    fs.copyFileSync("/etc/default/ufw", path.join(etc, "default", "ufw"));
    this.resetUfwFiles();

    // The server's own /etc/ssh, like a cloud image's: drop-ins read first, one of them (as
    // cloud-init writes it) allowing passwords, and root allowed to log in with a password.
    const ssh = path.join(etc, "ssh");
    fs.mkdirSync(path.join(ssh, "sshd_config.d"), { recursive: true });
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(ssh, "ssh_host_ed25519_key")]);
    fs.writeFileSync(path.join(ssh, "sshd_config"), this.sshdConfig());
    fs.writeFileSync(path.join(ssh, "sshd_config.d", "50-cloud-init.conf"), "PasswordAuthentication yes\n");
    // Its own /etc/shadow, so root has a password inside the sandbox only.
    const hash = run("openssl", ["passwd", "-6", "-stdin"], this.rootPassword).trim();
    fs.writeFileSync(path.join(etc, "shadow"), `root:${hash}:20000:0:99999:7:::\n`, { mode: 0o640 });
    // Its own machine id: journalctl reads /var/log/journal/<machine-id>.
    fs.writeFileSync(path.join(etc, "machine-id"), `${randomBytes(16).toString("hex")}\n`);
    fs.mkdirSync(this.varLog);
    fs.mkdirSync(this.rootHome, { mode: 0o700 });
    fs.copyFileSync(`${this.clientKey}.pub`, path.join(this.dir, "authorized_keys"));
    const hostPublic = fs
      .readFileSync(path.join(ssh, "ssh_host_ed25519_key.pub"), "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    fs.writeFileSync(
      path.join(this.dir, "known_hosts"),
      `${this.server.v4} ${hostPublic}\n${this.server.v6} ${hostPublic}\n`,
    );
    const log = fs.openSync(this.sshdLog, "a");
    this.start(
      [
        // Its own /run too, where sshd needs /run/sshd: the machine's is shared with every other
        // sandbox, and one removing it would break the others' sshd. And root's own home, as on
        // a fresh host: the machine's /root/.bashrc (which bash reads for a command sshd runs)
        // would put the machine's tools first on PATH and run them at every login.
        ...[
          "sh",
          "-c",
          'mount --bind "$0" /var/log && mount --bind "$1" /root && mount -t tmpfs -o mode=755 sandbox-run /run && ' +
            'mkdir -m 755 /run/sshd && shift && exec "$@"',
          this.varLog,
          this.rootHome,
        ],
        ...["/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config"],
      ],
      this.server.ns,
      log,
    );
    fs.closeSync(log);
    await this.waitFor(() => /Server listening on :: port 22/.test(fs.readFileSync(this.sshdLog, "utf8")));
    await this.listen(this.server, LISTEN_PORTS);
    return this;
  }

  /**
   * The network alone: every namespace but the container's, the router and the links, the
   * router's control listener, and the deployer's key pair. The server's namespace is left empty
   * for a host to run in.
   */
  protected async createNetwork(): Promise<void> {
    for (const ns of this.namespaces.filter((n) => n !== this.container.ns)) this.addNamespace(ns);
    this.inNs(this.router, "ip link add lan type bridge && ip link set lan up");
    this.inNs(this.router, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1");
    this.links().forEach((link, i) => this.addLink(i, ...link));
    this.inNs(
      this.router,
      "ip addr add 192.168.1.1/24 dev lan && ip -6 addr add 2001:db8:1::1/64 dev lan nodad",
    );
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sandbox-${this.id}`, "-f", this.clientKey]);
    await this.startListener(this.router, [CONTROL_PORT]);
  }

  /**
   * Replaces the server's namespace with an empty one, linked the same way with the same
   * addresses and MAC address, as a host's network is after a reboot: nothing loaded in it.
   * Whatever still runs in the old one is killed.
   */
  protected recreateServerNamespace(): void {
    this.killAllIn(this.server.ns);
    // The kernel tears a namespace down only once nothing holds it, and the veth pair goes with
    // it: deleted here, the router's end is gone before the new link takes its name.
    run("ip", ["-n", this.router, "link", "del", "p0"]);
    run("ip", ["netns", "del", this.server.ns]);
    this.addNamespace(this.server.ns);
    this.addLink(0, ...this.links()[0]!);
  }

  private addNamespace(ns: string): void {
    run("ip", ["netns", "add", ns]);
    // No duplicate address detection: a tentative link-local address stalls IPv6 neighbour
    // discovery for a second or two. These are the namespace's own settings, not the machine's.
    this.inNs(
      ns,
      "ip link set lo up && sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0",
    );
  }

  /** Each peer's link to the router: its gateway addresses, and the router's bridge if on the LAN. */
  private links(): [Peer, string, string, string | undefined][] {
    return [
      [this.server, "192.168.1.1", "2001:db8:1::1", "lan"],
      [this.trusted, "192.168.1.1", "2001:db8:1::1", "lan"],
      [this.untrusted, "203.0.113.1", "2001:db8:2::1", undefined],
      [this.admin, "198.51.100.1", "2001:db8:3::1", undefined],
    ];
  }

  private addLink(i: number, peer: Peer, gw4: string, gw6: string, bridge: string | undefined): void {
    const side = `p${i}`;
    run("ip", ["link", "add", side, "netns", this.router, "type", "veth", "peer", "eth0", "netns", peer.ns]);
    // A fixed MAC address: the router's and the peers' neighbour caches stay right when the
    // server's namespace is made again (recreateServerNamespace).
    this.inNs(
      peer.ns,
      `ip link set eth0 address 02:0c:00:00:00:0${i} up && ip addr add ${peer.v4}/24 dev eth0`,
    );
    this.inNs(peer.ns, `ip -6 addr add ${peer.v6}/64 dev eth0 nodad`);
    this.inNs(peer.ns, `ip route add default via ${gw4} && ip -6 route add default via ${gw6}`);
    if (bridge) {
      this.inNs(this.router, `ip link set ${side} master ${bridge} up`);
    } else {
      this.inNs(this.router, `ip link set ${side} up && ip addr add ${gw4}/24 dev ${side}`);
      this.inNs(this.router, `ip -6 addr add ${gw6}/64 dev ${side} nodad`);
    }
  }

  /** Kills everything running in a namespace: sshd, listeners, probers, rollback timers. */
  protected killAllIn(ns: string): void {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" })
      .stdout.split(/\s+/)
      .filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /**
   * Puts the server back to a fresh host: UFW off, the package's own files, no hardening state.
   * Files are replaced inside the directories, not the directories themselves: sshd's sessions
   * see the directories that were bind-mounted when it started.
   */
  resetHost(): void {
    this.onServer("ufw --force disable >/dev/null 2>&1 || true");
    this.onServer(
      ["iptables", "ip6tables"].map((bin) => `${bin} -F; ${bin} -X; ${bin} -t nat -F`).join("\n"),
    );
    if (fs.existsSync(this.sshdDropIn)) {
      fs.rmSync(this.sshdDropIn);
      process.kill(Number(fs.readFileSync(path.join(this.dir, "sshd.pid"), "utf8")), "SIGHUP");
    }
    fs.rmSync(this.stateDir, { recursive: true, force: true });
    const etc = `/etc/netns/${this.server.ns}`;
    for (const entry of fs.readdirSync(path.join(etc, "ufw"))) {
      fs.rmSync(path.join(etc, "ufw", entry), { recursive: true, force: true });
    }
    fs.cpSync("/etc/ufw", path.join(etc, "ufw"), { recursive: true });
    fs.copyFileSync("/etc/default/ufw", path.join(etc, "default", "ufw"));
    this.resetUfwFiles();
    for (const entry of fs.readdirSync(this.varLog)) {
      fs.rmSync(path.join(this.varLog, entry), { recursive: true, force: true });
    }
  }

  /** Puts the server's UFW back to a fresh install's files: inactive, no rules. */
  resetUfwFiles(): void {
    const etc = `/etc/netns/${this.server.ns}`;
    const conf = path.join(etc, "ufw", "ufw.conf");
    fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace(/^ENABLED=.*$/m, "ENABLED=no"));
  }

  private sshdConfig(): string {
    return [
      "Include /etc/ssh/sshd_config.d/*.conf",
      "Port 22",
      "ListenAddress 0.0.0.0",
      "ListenAddress ::",
      "HostKey /etc/ssh/ssh_host_ed25519_key",
      // Not /run/sshd.pid: the sandbox's directory holds what the tests read.
      `PidFile ${path.join(this.dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
      "PermitRootLogin yes",
      "PubkeyAuthentication yes",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The sandbox directory is under /tmp, which StrictModes would refuse.
      "StrictModes no",
      "LogLevel VERBOSE",
      "",
    ].join("\n");
  }

  /**
   * Tries to log in as root with the password, from the admin peer: "accepted", or "denied" when
   * sshd itself said no. A login that never reached sshd's answer is neither: it is tried again
   * with a longer wait, and throws with ssh's error if it never does.
   */
  async passwordLogin(): Promise<"accepted" | "denied"> {
    const askpass = path.join(this.dir, "askpass");
    fs.writeFileSync(askpass, `#!/bin/sh\necho '${this.rootPassword}'\n`, { mode: 0o700 });
    let stderr = "";
    for (const seconds of [5, 15, 30]) {
      const result = await this.exec(this.admin.ns, [
        "env",
        `SSH_ASKPASS=${askpass}`,
        "SSH_ASKPASS_REQUIRE=force",
        "ssh",
        ...["-F", "/dev/null", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"],
        ...["-o", "NumberOfPasswordPrompts=1", "-o", "StrictHostKeyChecking=yes"],
        ...[
          "-o",
          `ConnectTimeout=${seconds}`,
          "-o",
          `UserKnownHostsFile=${path.join(this.dir, "known_hosts")}`,
        ],
        ...["-T", `root@${this.server.v4}`, "true"],
      ]);
      if (result.code === 0) return "accepted";
      if (/Permission denied/.test(result.stderr)) return "denied";
      stderr = result.stderr;
    }
    throw new Error(`sandbox ${this.id}: the password login never got sshd's answer: ${stderr}`);
  }

  /**
   * Publishes the container's port 80 as the server's `port`, the way Docker's iptables backend
   * does: DNAT in PREROUTING, then FORWARD jumps to DOCKER-USER first and accepts for the
   * container; the container's own traffic out is accepted and masqueraded. Run again to play a
   * Docker restart: Docker rebuilds its own rules and leaves DOCKER-USER's contents alone.
   */
  async publish(port: number): Promise<void> {
    if (
      !spawnSync("ip", ["netns", "pids", this.container.ns]).stdout.length &&
      !this.hasNs(this.container.ns)
    ) {
      run("ip", ["netns", "add", this.container.ns]);
      this.inNs(
        this.container.ns,
        "ip link set lo up && sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0",
      );
      this.inNs(this.server.ns, "ip link add docker0 type bridge && ip link set docker0 up");
      this.inNs(
        this.server.ns,
        "ip addr add 172.17.0.1/16 dev docker0 && ip -6 addr add fd00:17::1/64 dev docker0 nodad",
      );
      run("ip", [
        "link",
        "add",
        "vethc",
        "netns",
        this.server.ns,
        "type",
        "veth",
        "peer",
        "eth0",
        "netns",
        this.container.ns,
      ]);
      this.inNs(this.server.ns, "ip link set vethc master docker0 up");
      this.inNs(this.container.ns, `ip link set eth0 up && ip addr add ${this.container.v4}/16 dev eth0`);
      this.inNs(this.container.ns, `ip -6 addr add ${this.container.v6}/64 dev eth0 nodad`);
      this.inNs(
        this.container.ns,
        "ip route add default via 172.17.0.1 && ip -6 route add default via fd00:17::1",
      );
      this.inNs(this.server.ns, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1");
      const child = this.start(
        ["node", "--import", "tsx", NETPROBE, "listen", "80"],
        this.container.ns,
        "pipe",
      );
      await new Promise<void>((resolve) =>
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()),
      );
    }
    for (const [bin, addr, subnet] of [
      ["iptables", this.container.v4, "172.17.0.0/16"],
      ["ip6tables", this.container.v6, "fd00:17::/64"],
    ] as const) {
      this.onServer(
        [
          `${bin} -t nat -D PREROUTING -p tcp --dport ${port} -j DNAT --to-destination ${bin === "iptables" ? addr : `[${addr}]`}:80 2>/dev/null || true`,
          `${bin} -t nat -A PREROUTING -p tcp --dport ${port} -j DNAT --to-destination ${bin === "iptables" ? addr : `[${addr}]`}:80`,
          `${bin} -t nat -D POSTROUTING -s ${subnet} ! -o docker0 -j MASQUERADE 2>/dev/null || true`,
          `${bin} -t nat -A POSTROUTING -s ${subnet} ! -o docker0 -j MASQUERADE`,
          `${bin} -n -L DOCKER-USER >/dev/null 2>&1 || ${bin} -N DOCKER-USER`,
          `while ${bin} -D FORWARD -j DOCKER-USER 2>/dev/null; do :; done`,
          `while ${bin} -D FORWARD -o docker0 -d ${addr} -p tcp --dport 80 -j ACCEPT 2>/dev/null; do :; done`,
          `while ${bin} -D FORWARD -i docker0 -j ACCEPT 2>/dev/null; do :; done`,
          `${bin} -I FORWARD 1 -j DOCKER-USER`,
          `${bin} -I FORWARD 2 -o docker0 -d ${addr} -p tcp --dport 80 -j ACCEPT`,
          `${bin} -I FORWARD 3 -i docker0 -j ACCEPT`,
        ].join("\n"),
      );
    }
  }

  /**
   * Makes the router forward `port` on its internet-side address (203.0.113.1) to the server,
   * like a home router's port forwarding; with `masquerade`, it also rewrites the source to its
   * own LAN address (192.168.1.1), as some routers do. Replaces any earlier forwarding.
   */
  forward(port: number, masquerade: boolean): void {
    this.inNs(
      this.router,
      [
        "iptables -t nat -F",
        `iptables -t nat -A PREROUTING -d 203.0.113.1 -p tcp --dport ${port} -j DNAT --to-destination ${this.server.v4}:${port}`,
        ...(masquerade
          ? [
              `iptables -t nat -A POSTROUTING -o lan -d ${this.server.v4} -p tcp --dport ${port} -j MASQUERADE`,
            ]
          : []),
      ].join("\n"),
    );
  }

  private hasNs(ns: string): boolean {
    return run("ip", ["netns", "list"])
      .split("\n")
      .some((l) => l.split(" ")[0] === ns);
  }

  /**
   * Plays a reboot of the server's firewall: every table emptied, then UFW's boot-time start.
   * Returns what that start printed, its hooks' messages included.
   */
  reboot(): string {
    return this.onServer(
      ["iptables", "ip6tables"]
        .map((bin) => `for t in filter nat; do ${bin} -t $t -F; ${bin} -t $t -X; done`)
        .join("\n") + "\n/lib/ufw/ufw-init start 2>&1",
    );
  }

  private start(argv: string[], ns: string, out: number | "pipe" | "ignore"): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["pipe", out, out] });
    this.processes.push(child);
    return child;
  }

  /**
   * Accepts TCP connections and echoes UDP datagrams on `ports` (IPv4 and IPv6) inside a peer,
   * until destroy().
   */
  listen(peer: Peer, ports: number[]): Promise<void> {
    return this.startListener(peer.ns, ports);
  }

  private async startListener(ns: string, ports: number[]): Promise<void> {
    const child = this.start(
      ["node", "--import", "tsx", NETPROBE, "listen", ...ports.map(String)],
      ns,
      "pipe",
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.on("exit", (code) => reject(new Error(`listener exited with ${code}`)));
    });
  }

  private async waitFor(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`sandbox ${this.id}: timed out waiting to start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs a shell command inside a namespace (the server's sees its own /etc/ufw). */
  inNs(ns: string, command: string, input?: string): string {
    return run("ip", ["netns", "exec", ns, "bash", "-c", `set -e; ${command}`], input);
  }

  /** Runs a shell command on the server, as its operator would at the console. */
  onServer(command: string): string {
    return this.inNs(this.server.ns, command);
  }

  /**
   * Runs sshd in one of its test modes (`-t`, `-T`) as the server's sshd daemon sees the host:
   * with its own /run and the privilege separation directory sshd checks for, which the
   * machine's /run need not have (a package installed without starting its daemon has none).
   */
  sshd(args: string): string {
    return this.onServer(
      `mount -t tmpfs -o mode=755 sandbox-run /run && mkdir -m 755 /run/sshd && sshd ${args}`,
    );
  }

  /**
   * One SSH session from the admin namespace, the way @pulumi/command's remote.Command makes
   * one: exec `command`, feed `stdin`, no PTY. Dials are retried until `timeoutMs`, as with
   * dialErrorLimit -1; each dial waits at most `perDialSeconds`.
   *
   * The host key is checked as the caller says. `target.hostKey` set: that key alone is
   * accepted, asked for by its type, as remote.Command does with `connection.hostKey`
   * (FixedHostKey, HostKeyAlgorithms = the key's type). `opts.anyHostKey`: any key is accepted,
   * as remote.Command does without one. Neither: the sandbox's own known_hosts, for the test's
   * own sessions to the host it made.
   */
  async ssh(
    target: { host: string; port: number; user: string; privateKey: string; hostKey?: string },
    command: string,
    stdin: string,
    opts: { timeoutMs: number; perDialSeconds: number; from?: Peer; anyHostKey?: boolean },
  ): Promise<RunResult & { dials: number }> {
    const id = randomBytes(4).toString("hex");
    const keyFile = path.join(this.dir, `key-${id}`);
    const pinFile = path.join(this.dir, `pin-${id}`);
    fs.writeFileSync(keyFile, target.privateKey, { mode: 0o600 });
    let hostKeyOptions: string[];
    if (target.hostKey !== undefined) {
      const [type, base64] = target.hostKey.trim().split(/\s+/);
      // One known key under an alias: whatever address or port the host is reached at.
      fs.writeFileSync(pinFile, `pinned ${type} ${base64}\n`);
      hostKeyOptions = [
        ...["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${pinFile}`],
        ...["-o", "GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlias=pinned", "-o", "CheckHostIP=no"],
        ...["-o", "UpdateHostKeys=no", "-o", `HostKeyAlgorithms=${type}`],
      ];
    } else if (opts.anyHostKey) {
      hostKeyOptions = [
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        ...["-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no"],
      ];
    } else {
      const knownHosts = path.join(this.dir, "known_hosts");
      hostKeyOptions = ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`];
    }
    const deadline = Date.now() + opts.timeoutMs;
    let dials = 0;
    try {
      for (;;) {
        dials++;
        const result = await this.exec(
          (opts.from ?? this.admin).ns,
          [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            keyFile,
            "-p",
            String(target.port),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            ...hostKeyOptions,
            "-o",
            `ConnectTimeout=${opts.perDialSeconds}`,
            "-o",
            "LogLevel=ERROR",
            "-T",
            `${target.user}@${target.host}`,
            command,
          ],
          stdin,
        );
        // 255 is ssh's own failure (the dial); anything else is the remote command's status. A
        // handshake cut off before the key exchange is a dial error to remote.Command too.
        const dialFailed =
          result.code === 255 &&
          /Connection timed out|Connection refused|No route|timed out|kex_exchange_identification/.test(
            result.stderr,
          );
        if (!dialFailed || Date.now() > deadline) return { ...result, dials };
      }
    } finally {
      fs.rmSync(keyFile, { force: true });
      fs.rmSync(pinFile, { force: true });
    }
  }

  /** Runs argv inside a namespace and collects its output. */
  exec(ns: string, argv: string[], stdin = ""): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin);
    });
  }

  /**
   * What `from` sees of each target: open, refused, or blocked, decided in probe rounds whose
   * controls show that silence is not the machine's slowness (verdicts.ts).
   */
  async probe(from: Peer, targets: Target[], options?: Partial<VerdictOptions>): Promise<Verdict[]> {
    return (await this.probeDecision(from, targets, options)).verdicts;
  }

  /** As probe(), with the attempts made per target and the rounds it took. */
  async probeDecision(from: Peer, targets: Target[], options?: Partial<VerdictOptions>): Promise<Decision> {
    const decision = await decide(targets, this.prober(from), { ...DEFAULT_VERDICT_OPTIONS, ...options });
    probeStats.rounds += decision.rounds;
    probeStats.voided += decision.voided;
    return decision;
  }

  /** One probe round at a time from `from`, with its controls: what probe() decides from. */
  prober(from: Peer): Round {
    const controls = this.controls(from);
    return async (targets, waitMs) => {
      const request: RoundRequest = { targets, controls };
      const result = await this.exec(from.ns, [
        ...["node", "--import", "tsx", NETPROBE],
        ...["probe", String(waitMs), JSON.stringify(request)],
      ]);
      if (result.code !== 0) throw new Error(`probe failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as RoundResult;
    };
  }

  /**
   * A round's controls from `from`: TCP and UDP, IPv4 and IPv6, to a listener no firewall under
   * test stands before. From a peer, the router's own address on the peer's link; from the
   * server or the container, whose only link the firewall under test guards, their own
   * listener over loopback (which UFW always admits).
   */
  controls(from: Peer): Target[] {
    const [hosts, port] = this.controlListener(from);
    return hosts.flatMap((host) => [
      { host, port, protocol: "tcp" as const },
      { host, port, protocol: "udp" as const },
    ]);
  }

  private controlListener(from: Peer): [string[], number] {
    const loopback = ["127.0.0.1", "::1"];
    if (from.ns === this.server.ns) return [loopback, LISTEN_PORTS[0]!];
    if (from.ns === this.container.ns) return [loopback, 80];
    const link = this.links().find(([peer]) => peer.ns === from.ns);
    if (!link) throw new Error(`sandbox ${this.id}: no probe controls for namespace ${from.ns}`);
    // The peer's gateways are the router's own addresses on its link.
    return [[link[1], link[2]], CONTROL_PORT];
  }

  /**
   * Starts probing TCP targets in rounds from a peer, each with the peer's controls; stop()
   * returns the verdicts counted per target over the rounds whose controls all answered, and
   * how many rounds were void.
   */
  watch(
    from: Peer,
    targets: Target[],
    waitMs = 300,
  ): { stop: () => Promise<{ counts: Record<Verdict, number>[]; voided: number }> } {
    const request: RoundRequest = { targets, controls: this.controls(from) };
    const child = this.start(
      ["node", "--import", "tsx", NETPROBE, "watch", String(waitMs), JSON.stringify(request)],
      from.ns,
      "pipe",
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const finished = new Promise<void>((resolve) => child.on("close", () => resolve()));
    return {
      stop: async () => {
        child.stdin!.end();
        await finished;
        const { counts, voided } = JSON.parse(out) as WatchResult;
        const verdictCounts = counts.map((c: Record<Outcome, number>) => ({
          open: c.open,
          refused: c.refused,
          blocked: c.timeout,
        }));
        probeStats.rounds +=
          voided + (counts[0] ? counts[0].open + counts[0].refused + counts[0].timeout : 0);
        probeStats.voided += voided;
        return { counts: verdictCounts, voided };
      },
    };
  }

  /**
   * Makes the server keep a UFW log the way rsyslog would, at /var/log/ufw.log as its SSH
   * sessions see it. The kernel writes LOG lines from the machine's own namespace only (unless
   * the global net.netfilter.nf_log_all_netns is set, which the sandbox must not touch), so
   * UFW's LOG rules are switched to NFLOG, with the same matches, limits and prefixes, and
   * ulogd2 writes each packet in its emulation of the LOG format. Call after the hardening:
   * UFW rebuilds its logging rules when its logging level changes.
   */
  async captureLog(): Promise<void> {
    this.onServer(
      ["iptables", "ip6tables"]
        .map(
          (bin) =>
            `${bin}-save -t filter | sed -E 's/-j LOG --log-prefix ("[^"]*")/-j NFLOG --nflog-prefix \\1 --nflog-group ${NFLOG_GROUP}/' | ${bin}-restore -T filter`,
        )
        .join("\n"),
    );
    const conf = path.join(this.dir, "ulogd.conf");
    const status = path.join(this.dir, "ulogd.status");
    fs.writeFileSync(
      conf,
      [
        "[global]",
        `logfile="${status}"`,
        "loglevel=3",
        "stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU",
        "[log1]",
        `group=${NFLOG_GROUP}`,
        "[emu1]",
        `file="${path.join(this.varLog, "ufw.log")}"`,
        "sync=1",
        "",
      ].join("\n"),
    );
    this.start(["ulogd", "-c", conf], this.server.ns, "ignore");
    await this.waitFor(
      () => fs.existsSync(status) && /entering main loop/.test(fs.readFileSync(status, "utf8")),
    );
  }

  /** How many packets the server's UFW logging rules have passed to the log, by prefix. */
  logCounters(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const line of this.onServer("iptables-save -c -t filter; ip6tables-save -c -t filter").split("\n")) {
      const m = /^\[(\d+):\d+\] .*--nflog-prefix "?(\[UFW [A-Z ]+\])/.exec(line);
      if (m) counts.set(m[2]!, (counts.get(m[2]!) ?? 0) + Number(m[1]));
    }
    return counts;
  }

  /** The server's UFW log lines so far (see captureLog). */
  ufwLog(): string[] {
    const file = path.join(this.varLog, "ufw.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  }

  /**
   * Moves the UFW log into the server's journal, as on a host without rsyslog: each line
   * becomes a kernel message (the text from its UFW prefix on) at the line's own time, in a
   * real journal file written by systemd-journal-remote; /var/log/ufw.log is removed.
   * `extra` kernel messages are added too, each `daysAgo` days before now.
   */
  moveLogToJournal(extra: { message: string; daysAgo: number }[]): void {
    const lines = this.ufwLog();
    // GNU date reads syslog's "Nov 24 22:00:01" as this year's, in local time, as ulogd wrote it.
    const seconds = run("date", ["-f", "-", "+%s"], lines.map((l) => `${l.slice(0, 15)}\n`).join(""))
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
    const now = Math.floor(Date.now() / 1000);
    const messages = [
      ...extra.map((e) => ({ message: e.message, epoch: now - e.daysAgo * 86_400 })),
      ...lines.map((l, i) => ({ message: l.slice(l.indexOf("[UFW ")), epoch: seconds[i]! })),
    ].sort((a, b) => a.epoch - b.epoch);
    const boot = randomBytes(16).toString("hex");
    const exported =
      messages
        .map(({ message, epoch }, i) =>
          [
            `__REALTIME_TIMESTAMP=${epoch * 1_000_000 + i}`,
            `__MONOTONIC_TIMESTAMP=${1_000_000 + i}`,
            `_BOOT_ID=${boot}`,
            "_TRANSPORT=kernel",
            "SYSLOG_IDENTIFIER=kernel",
            "_HOSTNAME=sandbox",
            `MESSAGE=${message}`,
            "",
          ].join("\n"),
        )
        // Each entry ends with an empty line; without it journal-remote drops the last one.
        .join("\n") + "\n";
    const file = this.journalFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    run(JOURNAL_REMOTE, [`--output=${file}`, "-"], exported);
    fs.rmSync(path.join(this.varLog, "ufw.log"));
  }

  /** The journal file moveLogToJournal writes, where the server's journalctl reads it. */
  protected journalFile(): string {
    const machineId = fs.readFileSync(`/etc/netns/${this.server.ns}/machine-id`, "utf8").trim();
    return path.join(this.varLog, "journal", machineId, "system.journal");
  }

  /** The kernel's user chains (UFW's and ours), without counters: what actually filters. */
  userChains(): string {
    return this.onServer("iptables-save -t filter; ip6tables-save -t filter")
      .split("\n")
      .filter((l) => /ufw6?-user-|openclaw-/.test(l))
      .map((l) => l.replace(/\[\d+:\d+\]/, ""))
      .join("\n");
  }

  /** The "Connection from" lines sshd has logged so far: one per TCP connection it accepted. */
  sshdConnections(): string[] {
    return fs
      .readFileSync(this.sshdLog, "utf8")
      .split("\n")
      .filter((l) => l.includes("Connection from"));
  }

  /** Removes every namespace, process and file this sandbox made, by its id. */
  destroy(): void {
    Sandbox.live.delete(this);
    for (const ns of this.namespaces) {
      this.killAllIn(ns);
      spawnSync("ip", ["netns", "del", ns]);
      fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    for (const child of this.processes) child.kill("SIGKILL");
    fs.rmSync(this.stateDir, { recursive: true, force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
