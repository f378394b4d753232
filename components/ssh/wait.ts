import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

/**
 * Node program run on the deployer: waits until sshd at OPENCLAW_SSH_HOST:OPENCLAW_SSH_PORT sends
 * its `SSH-` banner, trying every 2 s for at most OPENCLAW_WAIT_SECONDS. A booting VM is waited
 * for here, so the SSH steps after it can give up after a few failed logins: what fails there
 * is then a key, a user or a host key, not a boot. No secret reaches it.
 */
export const WAIT_FOR_SSH_SCRIPT = String.raw`
const net = require("node:net");
const host = process.env.OPENCLAW_SSH_HOST;
const port = Number(process.env.OPENCLAW_SSH_PORT);
const user = process.env.OPENCLAW_SSH_USER;
const seconds = Number(process.env.OPENCLAW_WAIT_SECONDS);
const deadline = Date.now() + seconds * 1000;
const where = host.includes(":") ? "[" + host + "]:" + port : host + ":" + port;

function attempt() {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let text = "";
    const finish = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("no answer within 10 s"), Math.max(1, Math.min(10000, deadline - Date.now())));
    socket.on("data", (data) => {
      text += data.toString("latin1");
      // RFC 4253 4.2: the server may send other lines before its identification line.
      const banner = text.split("\n").find((line) => line.startsWith("SSH-"));
      if (banner) finish({ banner: banner.trim() });
      else if (text.length > 8192) finish("answered, but not with an SSH banner");
    });
    socket.on("error", (e) => finish(e.code || e.message));
    socket.on("close", () => finish("closed the connection before sending an SSH banner"));
  });
}

(async () => {
  let last = "";
  for (let tries = 1; ; tries++) {
    const result = await attempt();
    if (typeof result === "object") {
      console.log("openclaw: sshd at " + where + " answers (" + result.banner + ") after " + tries +
        " attempt(s); logging in as " + user);
      return;
    }
    last = result;
    if (Date.now() + 2000 >= deadline) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.error("openclaw: sshd at " + where + " did not answer within " + seconds + " s (last attempt: " +
    last + "). Check that the host runs, that " + port + " is its SSH port, and that the cloud " +
    "firewall or the router admits the deployer's address.");
  process.exit(1);
})();
`;

export interface SshWaitArgs {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** How long to wait, in seconds. */
  seconds: number;
  /** Re-run (wait again) when these change: a new host. */
  triggers: pulumi.Input<unknown>[];
  dependsOn: pulumi.Resource[];
  deletedWith?: pulumi.Resource;
}

/**
 * Waits on the deployer, not over SSH, until the host's sshd answers. The script goes to `node`
 * on stdin, so the command text is one portable word; the deployer runs Node already.
 */
export function waitForSsh(name: string, args: SshWaitArgs, parent: pulumi.Resource): command.local.Command {
  return new command.local.Command(
    `${name}-wait-ssh`,
    {
      create: "node",
      update: "node",
      stdin: WAIT_FOR_SSH_SCRIPT,
      environment: {
        OPENCLAW_SSH_HOST: args.host,
        OPENCLAW_SSH_PORT: pulumi.output(args.port).apply(String),
        OPENCLAW_SSH_USER: args.user,
        OPENCLAW_WAIT_SECONDS: String(args.seconds),
      },
      triggers: args.triggers,
    },
    {
      parent,
      dependsOn: args.dependsOn,
      customTimeouts: { create: `${args.seconds + 60}s`, update: `${args.seconds + 60}s` },
      ...(args.deletedWith ? { deletedWith: args.deletedWith } : {}),
    },
  );
}
