// An sshd that poses as the server: started in the server's network namespace once the real
// host's sshd is stopped, it answers at the same addresses and port with a host key of its own.
// It plays the attacker on the network path: it accepts the deployer's key for the login user
// (a machine in the middle accepts any key it is shown), and a session it accepts runs nothing
// but `cat`, which records the session's stdin: whatever a step would have sent. Everything it
// makes is under its own directory, removed by stop().
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Sandbox } from "./sandbox";

/** The uid and gid the login user has inside the impostor's world: nobody's, never root. */
const NOBODY = 65534;

export class Impostor {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-impostor-"));
  /** Where an accepted session's stdin goes, one file for all of them. */
  readonly received = path.join(this.dir, "received", "stdin");
  readonly log = path.join(this.dir, "sshd.log");
  private readonly hostKey = path.join(this.dir, "host_ed25519");
  private child: ChildProcess | undefined;

  constructor(
    private readonly sandbox: Sandbox,
    /** The login user the deployer asks for. */
    private readonly user: string,
  ) {}

  /** Its host key's public half, `TYPE BASE64`. */
  get publicKey(): string {
    return fs.readFileSync(`${this.hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  }

  /** Its host key's fingerprint, as ssh-keygen prints it (`SHA256:...`). */
  get fingerprint(): string {
    return execFileSync("ssh-keygen", ["-lf", `${this.hostKey}.pub`], { encoding: "utf8" }).split(" ")[1]!;
  }

  /** Starts listening on port 22 of the server's addresses; the real host's sshd must be stopped. */
  async start(): Promise<void> {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", this.hostKey]);
    // The login user gets in as nobody, who can write only the received file's directory.
    fs.chmodSync(this.dir, 0o711);
    fs.mkdirSync(path.dirname(this.received), { mode: 0o777 });
    fs.chmodSync(path.dirname(this.received), 0o777);
    fs.copyFileSync(`${this.sandbox.clientKey}.pub`, path.join(this.dir, "authorized_keys"));
    const passwd = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith(`${this.user}:`));
    passwd.push(`${this.user}:x:${NOBODY}:${NOBODY}:impostor:/nonexistent:/bin/sh`);
    fs.writeFileSync(path.join(this.dir, "passwd"), `${passwd.join("\n")}\n`, { mode: 0o644 });
    fs.writeFileSync(
      path.join(this.dir, "sshd_config"),
      [
        "Port 22",
        "ListenAddress 0.0.0.0",
        "ListenAddress ::",
        `HostKey ${this.hostKey}`,
        `PidFile ${path.join(this.dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        // Its files are under /tmp, which StrictModes would refuse.
        "StrictModes no",
        // Whatever command the client asks for, only this runs: stdin is recorded, nothing run.
        `ForceCommand cat >>${this.received}`,
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    const out = fs.openSync(this.log, "a");
    // `ip netns exec` gives it a mount namespace of its own: the user's passwd line, and a /run
    // with the /run/sshd it needs, are seen by it alone.
    this.child = spawn(
      "ip",
      [
        ...["netns", "exec", this.sandbox.server.ns, "sh", "-c"],
        'mount --bind "$0/passwd" /etc/passwd && mount -t tmpfs -o mode=755 impostor-run /run && ' +
          'mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$0/sshd_config"',
        this.dir,
      ],
      { stdio: ["ignore", out, out] },
    );
    fs.closeSync(out);
    const deadline = Date.now() + 10_000;
    while (!/Server listening on :: port 22/.test(fs.readFileSync(this.log, "utf8"))) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`the impostor's sshd did not start:\n${fs.readFileSync(this.log, "utf8")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** What every session it accepted was sent on stdin. */
  stdin(): string {
    return fs.existsSync(this.received) ? fs.readFileSync(this.received, "utf8") : "";
  }

  /** Its log's lines that say a client logged in or a session started. */
  sessions(): string[] {
    return this.logLines(/Accepted publickey|Starting session/);
  }

  /** Its log's "Connection from" lines: one per TCP connection it took. */
  connections(): string[] {
    return this.logLines(/Connection from/);
  }

  private logLines(pattern: RegExp): string[] {
    return fs
      .readFileSync(this.log, "utf8")
      .split("\n")
      .filter((l) => pattern.test(l));
  }

  /** Every file it has, read whole: its log, the received stdin, its keys and settings. */
  everything(): string {
    return fs
      .readdirSync(this.dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
      .join("\n");
  }

  /** Stops its sshd (the process it was started as) and removes its directory. */
  stop(): void {
    if (this.child?.pid && this.child.exitCode === null) this.child.kill("SIGTERM");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
