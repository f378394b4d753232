// Runs inside a sandbox namespace (ip netns exec NS node --import tsx netprobe.ts ...):
//   listen PORT...              accept and close TCP connections on each port, and echo UDP
//                               datagrams back, IPv4 and IPv6
//   probe TIMEOUT_MS JSON       one attempt per target [{host, port, protocol?}], prints results
//   watch TIMEOUT_MS JSON       attempts each target in a loop until stdin closes, prints counts
import * as dgram from "node:dgram";
import * as net from "node:net";

export type Outcome = "open" | "refused" | "timeout";
export interface Target {
  host: string;
  port: number;
  /** Default tcp. A udp target is open when the listener's echo comes back. */
  protocol?: "tcp" | "udp";
}

function attempt(target: Target, timeoutMs: number): Promise<Outcome> {
  return target.protocol === "udp" ? attemptUdp(target, timeoutMs) : attemptTcp(target, timeoutMs);
}

function attemptUdp({ host, port }: Target, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    socket.on("message", () => done("open"));
    // Port unreachable comes back as ECONNREFUSED on a connected socket; a send the host's own
    // firewall drops fails with EPERM.
    socket.on("error", () => done("refused"));
    socket.connect(port, host, () => socket.send("probe", (err) => err && done("refused")));
  });
}

function attemptTcp({ host, port }: Target, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: Outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.on("connect", () => done("open"));
    // A REJECT (port unreachable) or a closed port; a DROP shows up as the timeout.
    socket.on("error", () => done("refused"));
  });
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === "listen") {
    await Promise.all(
      rest.map(
        (port) =>
          new Promise<void>((resolve, reject) => {
            const server = net.createServer((socket) => socket.end());
            server.on("error", reject);
            server.listen({ port: Number(port), host: "::", ipv6Only: false }, resolve);
          }),
      ),
    );
    await Promise.all(
      rest.map(
        (port) =>
          new Promise<void>((resolve, reject) => {
            const socket = dgram.createSocket({ type: "udp6", ipv6Only: false });
            socket.on("message", (msg, from) => socket.send(msg, from.port, from.address));
            socket.on("error", reject);
            socket.bind({ port: Number(port), address: "::" }, resolve);
          }),
      ),
    );
    process.stdout.write("ready\n");
    return;
  }
  const timeoutMs = Number(rest[0]);
  const targets = JSON.parse(rest[1]!) as Target[];
  if (mode === "probe") {
    const outcomes = await Promise.all(targets.map((t) => attempt(t, timeoutMs)));
    process.stdout.write(JSON.stringify(outcomes) + "\n");
    return;
  }
  if (mode === "watch") {
    let running = true;
    process.stdin.on("close", () => (running = false));
    process.stdin.resume();
    const counts = targets.map(() => ({ open: 0, refused: 0, timeout: 0 }));
    await Promise.all(
      targets.map(async (target, i) => {
        while (running) counts[i]![await attempt(target, timeoutMs)]++;
      }),
    );
    process.stdout.write(JSON.stringify(counts) + "\n");
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

void main();
