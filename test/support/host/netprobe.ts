// Runs inside a sandbox namespace (ip netns exec NS node --import tsx netprobe.ts ...):
//   listen PORT...        accept and close TCP connections on each port, and echo UDP datagrams
//                         back, IPv4 and IPv6
//   probe WAIT_MS JSON    one round: one attempt per target and per control, all at once
//                         (JSON: {targets, controls}); prints {targets, controls} outcomes
//   watch WAIT_MS JSON    rounds of the same until stdin closes; prints the outcomes of the
//                         rounds whose controls all answered, and how many were void
// What a round's outcomes mean, and when a "timeout" may count as blocked, is verdicts.ts's job.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { performance } from "node:perf_hooks";

export type Outcome = "open" | "refused" | "timeout";
export interface Target {
  host: string;
  port: number;
  /** Default tcp. A udp target is open when the listener's echo comes back. */
  protocol?: "tcp" | "udp";
}
/** What a round sends: the targets under test, and controls that must answer for it to count. */
export interface RoundRequest {
  targets: Target[];
  controls: Target[];
}
export interface RoundResult {
  targets: Outcome[];
  controls: Outcome[];
}
/** A watch's tally: outcomes per target over the rounds that counted, and the void rounds. */
export interface WatchResult {
  counts: Record<Outcome, number>[];
  voided: number;
}

/**
 * Calls `expire` once `waitMs` have passed since `sentAt` and the event loop has polled for I/O
 * after that: a prober the machine kept off the CPU must not read its own lateness as silence.
 * (A timer that fires late runs before the poll that would have delivered the answer; an
 * immediate set from it runs after that poll.) Returns a cancel function.
 */
function expireAfter(sentAt: number, waitMs: number, expire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const check = () => {
    const left = sentAt + waitMs - performance.now();
    if (left > 0) timer = setTimeout(check, Math.ceil(left));
    else immediate = setImmediate(expire);
  };
  timer = setTimeout(check, waitMs);
  return () => {
    clearTimeout(timer);
    clearImmediate(immediate);
  };
}

function attempt(target: Target, waitMs: number): Promise<Outcome> {
  return target.protocol === "udp" ? attemptUdp(target, waitMs) : attemptTcp(target, waitMs);
}

/**
 * One attempt's end: the first outcome wins, closes the socket and resolves; `arm` starts the
 * wait once the packet is on its way.
 */
function settleOnce(close: () => void, resolve: (outcome: Outcome) => void) {
  let cancel = () => {};
  let settled = false;
  const done = (outcome: Outcome) => {
    if (settled) return;
    settled = true;
    cancel();
    close();
    resolve(outcome);
  };
  const arm = (waitMs: number) => {
    if (!settled) cancel = expireAfter(performance.now(), waitMs, () => done("timeout"));
  };
  return { done, arm };
}

function attemptUdp({ host, port }: Target, waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    const { done, arm } = settleOnce(() => socket.close(), resolve);
    socket.on("message", () => done("open"));
    // Port unreachable comes back as ECONNREFUSED on a connected socket; a send the host's own
    // firewall drops fails with EPERM.
    socket.on("error", () => done("refused"));
    socket.connect(port, host, () => socket.send("probe", (err) => (err ? done("refused") : arm(waitMs))));
  });
}

function attemptTcp({ host, port }: Target, waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const { done, arm } = settleOnce(() => socket.destroy(), resolve);
    socket.on("connect", () => done("open"));
    // A REJECT (port unreachable) or a closed port; a DROP shows up as the timeout.
    socket.on("error", () => done("refused"));
    // net.connect issues the SYN on the next tick: the wait starts on the tick after it.
    process.nextTick(() => arm(waitMs));
  });
}

/** Every target and control at once, each with the same wait. */
async function round({ targets, controls }: RoundRequest, waitMs: number): Promise<RoundResult> {
  const [t, c] = await Promise.all([
    Promise.all(targets.map((x) => attempt(x, waitMs))),
    Promise.all(controls.map((x) => attempt(x, waitMs))),
  ]);
  return { targets: t, controls: c };
}

async function listen(ports: number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer((socket) => socket.end());
      server.on("error", reject);
      server.listen({ port, host: "::", ipv6Only: false }, resolve);
    });
    await new Promise<void>((resolve, reject) => {
      const socket = dgram.createSocket({ type: "udp6", ipv6Only: false });
      socket.on("message", (msg, from) => socket.send(msg, from.port, from.address));
      socket.on("error", reject);
      socket.bind({ port, address: "::" }, resolve);
    });
  }
  process.stdout.write("ready\n");
}

async function watch(request: RoundRequest, waitMs: number): Promise<WatchResult> {
  if (request.targets.some((t) => t.protocol === "udp")) {
    throw new Error("watch is for TCP targets: a UDP answer needs the far listener to run in time");
  }
  let running = true;
  process.stdin.on("close", () => (running = false));
  process.stdin.resume();
  const result: WatchResult = {
    counts: request.targets.map(() => ({ open: 0, refused: 0, timeout: 0 })),
    voided: 0,
  };
  while (running) {
    const r = await round(request, waitMs);
    if (r.controls.some((o) => o !== "open")) result.voided++;
    else r.targets.forEach((o, i) => result.counts[i]![o]++);
  }
  return result;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === "listen") return listen(rest.map(Number));
  const waitMs = Number(rest[0]);
  const request = JSON.parse(rest[1]!) as RoundRequest;
  if (mode === "probe") {
    process.stdout.write(JSON.stringify(await round(request, waitMs)) + "\n");
    return;
  }
  if (mode === "watch") {
    process.stdout.write(JSON.stringify(await watch(request, waitMs)) + "\n");
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

void main();
