// A sandbox whose server is a real Debian booted with systemd (systemd-nspawn) in the server's
// network namespace, with its own root filesystem: sshd, journald, ufw.service and systemd-run
// timers as on a cloud VM. Same addresses and peers as Sandbox, so its probes work unchanged.
//
// Each host boots a copy of a cached base image (booted-image.sh). A reboot is real: the
// container's systemd reboots, systemd-nspawn exits with 133, the server's namespace is made
// again empty (the kernel's rules would otherwise outlive the "reboot"), and the copy boots
// again. Everything made here lives under the sandbox's directory and namespaces and is
// removed by destroy(), on exit and on SIGINT/SIGTERM too (see Sandbox.live).
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { remoteSteps, type RemoteStep } from "./deploy";
import { Sandbox, sandboxUnavailable } from "./sandbox";

const BUILD = path.join(__dirname, "booted-image.sh");
/** The Debian suite the booted hosts run; the image cache is keyed by it. */
export const BOOTED_SUITE = "bookworm";
/** Ports the server listens on, as in Sandbox. */
const LISTEN_PORTS = [8000, 8001, 8080, 9000, 9001, 3306];
/** systemd-nspawn's exit status when the container's systemd rebooted. */
const REBOOTED = 133;
/**
 * The most a boot or a shutdown may take while systemd (or systemd-nspawn, before it) is still
 * working through it. The waits below count their own deadline only once systemd says it is
 * done: a loaded machine boots slowly, and how slowly is no finding. This bound is for a hang.
 */
const SYSTEMD_BUSY_LIMIT_MS = 10 * 60_000;
/**
 * What `systemctl is-system-running` says while the boot is under way: "offline" and "unknown"
 * until the container's systemd answers on its socket, "" before nsenter can enter it at all.
 */
const BOOTING = new Set(["", "offline", "unknown", "initializing", "starting"]);
/** What it says once the shutdown has begun, until systemd-nspawn exits. */
const SHUTTING_DOWN = new Set(["stopping", "offline", "unknown", ""]);

/** Why booted hosts cannot run here, or undefined when they can. */
export function bootedUnavailable(): string | undefined {
  const sandbox = sandboxUnavailable();
  if (sandbox) return sandbox;
  for (const tool of ["systemd-nspawn", "debootstrap", "nsenter"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `needs ${tool} (systemd-container, debootstrap: see .ci/run)`;
  }
  return undefined;
}

let imageDir: string | undefined;
/** The cached base image's directory, built first if missing (minutes, once per machine). */
export function bootedImage(): string {
  imageDir ??= execFileSync("bash", [BUILD, BOOTED_SUITE], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return imageDir;
}

export type Variant = "ufw" | "noufw";

export class BootedHost extends Sandbox {
  /** The cloud image's login user: passwordless sudo, key login only. */
  readonly user = "admin";
  /** This host's root filesystem, a copy of the base image. */
  readonly root = path.join(this.dir, "root");
  /** What the container printed, boot after boot. */
  readonly console = path.join(this.dir, "console.log");
  /** The exit status of each boot that ended (133: the host rebooted itself). */
  readonly exits: (number | null)[] = [];
  private nspawn: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  /** True once the current boot's systemd-nspawn has exited. */
  private ended = false;
  /** The container's PID 1 (its systemd), as the machine sees it. */
  pid1 = 0;
  /** How long the copy of the base image took, in ms. */
  copyMs = 0;

  constructor(readonly variant: Variant = "ufw") {
    super();
  }

  override get sshdDropIn(): string {
    return path.join(this.root, "etc/ssh/sshd_config.d/00-openclaw.conf");
  }

  /** Builds the network, copies the image, boots it and waits for SSH and the listeners. */
  override async create(): Promise<this> {
    Sandbox.live.add(this);
    const image = path.join(bootedImage(), this.variant);
    await this.createNetwork();
    // Where captureLog's ulogd writes, before moveLogToJournal moves its lines into the journal.
    fs.mkdirSync(this.varLog);
    const started = Date.now();
    // cp keeps the image's owners, modes, hard links and device nodes; a reflink where the
    // filesystem has them.
    execFileSync("cp", ["-a", "--reflink=auto", image, this.root]);
    this.copyMs = Date.now() - started;

    const etc = path.join(this.root, "etc");
    fs.writeFileSync(path.join(etc, "machine-id"), `${randomBytes(16).toString("hex")}\n`);
    const hostKey = path.join(etc, "ssh", "ssh_host_ed25519_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "booted", "-f", hostKey]);
    const hostPublic = fs.readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(
      path.join(this.dir, "known_hosts"),
      `${this.server.v4} ${hostPublic}\n${this.server.v6} ${hostPublic}\n`,
    );
    const key = fs.readFileSync(`${this.clientKey}.pub`, "utf8");
    for (const [home, owner] of [
      ["root", "root"],
      [`home/${this.user}`, this.user],
    ] as const) {
      const dir = path.join(this.root, home, ".ssh");
      fs.mkdirSync(dir, { mode: 0o700, recursive: true });
      fs.writeFileSync(path.join(dir, "authorized_keys"), key, { mode: 0o600 });
      // The user's ids inside the image, which need not exist on the machine.
      const [uid, gid] = this.idsOf(owner);
      fs.chownSync(dir, uid, gid);
      fs.chownSync(path.join(dir, "authorized_keys"), uid, gid);
    }
    await this.boot();
    return this;
  }

  private idsOf(user: string): [number, number] {
    const line = fs
      .readFileSync(path.join(this.root, "etc/passwd"), "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${user}:`));
    if (!line) throw new Error(`the image has no user ${user}`);
    const fields = line.split(":");
    return [Number(fields[2]), Number(fields[3])];
  }

  /**
   * Boots the copy in the server's namespace and waits until SSH logs the user in, or with
   * `ssh` false until systemd has finished starting the host (for a host SSH may not reach).
   */
  private async boot(ssh = true): Promise<void> {
    const out = fs.openSync(this.console, "a");
    // systemd-nspawn keeps per-machine state under /run/systemd/nspawn and cannot remove it
    // where /run is not a tmpfs: it gets a tmpfs of its own, in a mount namespace that sees
    // the machine's mounts come and go (slave) but shows it none of its own.
    const runDir = fs.existsSync("/run/systemd/nspawn") ? "/run/systemd/nspawn" : "/run/systemd";
    const child = spawn(
      "unshare",
      [
        ...["--mount", "--propagation", "slave", "sh", "-c"],
        `mount -t tmpfs -o mode=755 openclaw-nspawn ${runDir} && exec systemd-nspawn "$@"`,
        "sh",
        "--boot",
        "--quiet",
        `--directory=${this.root}`,
        `--machine=booted-${this.id}`,
        `--network-namespace-path=/run/netns/${this.server.ns}`,
        // No system bus on the machine; nothing registered with machined, no scope made.
        "--register=no",
        "--keep-unit",
        // The journal stays in the copy (the default may link it into the machine's /var/log).
        "--link-journal=no",
        "--console=read-only",
        // UFW loads rules with iptables.
        "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
      ],
      { stdio: ["ignore", out, out] },
    );
    fs.closeSync(out);
    this.nspawn = child;
    this.ended = false;
    this.exited = new Promise((resolve) =>
      child.on("exit", (code) => {
        this.ended = true;
        resolve(code);
      }),
    );
    this.pid1 = await this.findPid1(child.pid!);
    if (ssh) await this.waitForSsh(60_000);
    else await this.waitForBoot();
    await this.listen(this.server, LISTEN_PORTS);
  }

  /** The container's init, once systemd-nspawn has started it (fails at once if nspawn ends). */
  private async findPid1(nspawnPid: number): Promise<number> {
    const limit = Date.now() + SYSTEMD_BUSY_LIMIT_MS;
    for (;;) {
      try {
        const children = fs
          .readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, "utf8")
          .split(" ")
          .filter(Boolean);
        for (const pid of children) {
          // The container's init: PID 1 in its own PID namespace.
          const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
          if (/^NSpid:\s+\d+\s+1$/m.test(status)) return Number(pid);
        }
      } catch {
        // not there yet
      }
      if (this.ended || Date.now() > limit)
        throw new Error(
          `booted host ${this.id}: no container init (systemd-nspawn ${this.ended ? "ended" : "still starting"}); see ${this.console}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** What systemd says of the host as a whole (`systemctl is-system-running`), "" before it can. */
  systemState(): string {
    if (this.ended) return "ended";
    try {
      return this.onServer("systemctl is-system-running || true").trim();
    } catch {
      // not up far enough to enter yet
      return "";
    }
  }

  /** Waits until systemd says the boot is over (running, or degraded if a unit failed). */
  private async waitForBoot(): Promise<void> {
    const limit = Date.now() + SYSTEMD_BUSY_LIMIT_MS;
    for (;;) {
      const state = this.systemState();
      if (state === "running" || state === "degraded") return;
      if (!BOOTING.has(state) || Date.now() > limit)
        throw new Error(
          `booted host ${this.id}: systemd is ${state || "not answering"}; see ${this.console}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Waits until the login user gets a shell over SSH from the admin peer. `timeoutMs` counts from
   * the end of the boot: while systemd is still starting the host, SSH is not late.
   */
  async waitForSsh(timeoutMs: number): Promise<void> {
    const limit = Date.now() + SYSTEMD_BUSY_LIMIT_MS;
    let deadline = Date.now() + timeoutMs;
    const privateKey = fs.readFileSync(this.clientKey, "utf8");
    for (;;) {
      const r = await this.ssh({ host: this.server.v4, port: 22, user: this.user, privateKey }, "true", "", {
        timeoutMs: 1000,
        perDialSeconds: 2,
      });
      if (r.code === 0) return;
      const state = this.systemState();
      if (BOOTING.has(state) && Date.now() < limit) deadline = Date.now() + timeoutMs;
      if (this.ended || Date.now() > deadline) {
        const bound = BOOTING.has(state)
          ? `still booting after ${SYSTEMD_BUSY_LIMIT_MS} ms`
          : `no SSH ${timeoutMs} ms after systemd was done booting`;
        throw new Error(
          `booted host ${this.id}: ${bound} (systemd: ${state}): ${r.stderr}; see ${this.console}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Waits for the host to reboot itself (systemctl reboot) and boots it again, on a server
   * namespace made anew, then waits for SSH (`opts.ssh`) or only for the boot to finish.
   * Returns the ended boot's exit status (133 when systemd rebooted).
   */
  async rebooted(timeoutMs = 60_000, opts: { ssh: boolean } = { ssh: true }): Promise<number | null> {
    // timeoutMs for the shutdown to begin; once systemd is stopping the host, it may take longer.
    const deadline = Date.now() + timeoutMs;
    const limit = Date.now() + SYSTEMD_BUSY_LIMIT_MS;
    for (;;) {
      const code = await Promise.race([
        this.exited,
        new Promise<"waiting">((r) => setTimeout(() => r("waiting"), 1000).unref()),
      ]);
      if (code !== "waiting") {
        this.exits.push(code);
        if (code !== REBOOTED) return code;
        break;
      }
      // Only a shutdown under way may outlast timeoutMs; a host still up (or stuck in
      // maintenance) has not begun one.
      const state = this.systemState();
      const shuttingDown = SHUTTING_DOWN.has(state);
      if (Date.now() > (shuttingDown ? limit : deadline))
        throw new Error(`booted host ${this.id}: did not shut down (systemd: ${state || "not answering"})`);
    }
    this.recreateServerNamespace();
    await this.boot(opts.ssh);
    return REBOOTED;
  }

  /**
   * Runs a shell command inside the booted host, as root at its console would (nsenter into
   * every namespace of its PID 1). For looking at the host: never to repair what a test checks.
   */
  override onServer(command: string, input?: string): string {
    return execFileSync("nsenter", ["-t", String(this.pid1), "-a", "/bin/bash", "-c", `set -e; ${command}`], {
      encoding: "utf8",
      input,
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /** Runs sshd in a test mode inside the booted host, which has its own /run/sshd. */
  override sshd(args: string): string {
    return this.onServer(`sshd ${args}`);
  }

  /**
   * Beside the host's own journal files, which its journald keeps writing: journalctl reads
   * every file in the machine id's directory.
   */
  protected override journalFile(): string {
    const machineId = fs.readFileSync(path.join(this.root, "etc/machine-id"), "utf8").trim();
    return path.join(this.root, "var/log/journal", machineId, "openclaw-blocks.journal");
  }

  /**
   * The host's journal, as journalctl prints it with `args`: every line logged before the call
   * (`--sync` waits until journald has written them; on a loaded machine it lags).
   */
  journal(args: string): string {
    return this.onServer(`journalctl --sync && journalctl --no-pager -q ${args}`);
  }

  /** Waits until `unit` is neither running nor starting or stopping; returns its last state. */
  async unitSettled(unit: string): Promise<string> {
    const limit = Date.now() + SYSTEMD_BUSY_LIMIT_MS;
    for (;;) {
      const state = this.onServer(`systemctl is-active ${unit} || true`).trim();
      if (!/^(active|activating|deactivating|reloading|refreshing)$/.test(state)) return state;
      if (Date.now() > limit) throw new Error(`booted host ${this.id}: ${unit} still ${state}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The home stack's remote steps for this host, as its non-root sudo user. */
  steps(
    overrides: Record<string, unknown> = {},
    hardening: Record<string, unknown> = {},
  ): Promise<RemoteStep[]> {
    const key = fs.readFileSync(this.clientKey, "utf8");
    return remoteSteps(this, "home", key, {
      "openclaw:sshUser": this.user,
      "openclaw:hardening": hardening,
      ...overrides,
    });
  }

  /** Stops the container (its PID 1 and so everything in it), then the rest as Sandbox does. */
  override destroy(): void {
    if (this.pid1) {
      try {
        process.kill(this.pid1, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // systemd-nspawn exits by itself once its container is gone, cleaning up after itself.
    const pid = this.nspawn?.pid;
    if (pid) {
      const ended = () =>
        !fs.existsSync(`/proc/${pid}/stat`) || / Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
      const deadline = Date.now() + 10_000;
      while (!ended() && Date.now() < deadline) spawnSync("sleep", ["0.05"]);
      this.nspawn!.kill("SIGKILL");
    }
    super.destroy();
  }
}
