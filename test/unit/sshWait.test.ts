// The wait step's script, run for real with node against loopback ports: one whose sshd comes
// up late, one that never opens, one that answers but is not sshd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import { WAIT_FOR_SSH_SCRIPT } from "../../components/ssh/wait";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the script as the wait step does: `node` with the script on stdin, settings in the environment. */
function runWaiter(port: number, seconds: number): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [], {
      env: {
        PATH: process.env["PATH"] ?? "",
        OPENCLAW_SSH_HOST: "127.0.0.1",
        OPENCLAW_SSH_PORT: String(port),
        OPENCLAW_SSH_USER: "ubuntu",
        OPENCLAW_WAIT_SECONDS: String(seconds),
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // A bound on the test itself: the script must stop on its own well before this.
    const guard = setTimeout(() => child.kill("SIGKILL"), (seconds + 15) * 1000);
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(WAIT_FOR_SSH_SCRIPT);
  });
}

/** A loopback port nobody listens on: bound once by us, then closed. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function listen(port: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

test("a port whose sshd comes up late is waited for, until its banner arrives", async () => {
  const port = await freePort();
  let server: net.Server | undefined;
  // Like a booting VM: refused at first, then its first connection reset (sshd not ready yet;
  // this also makes a failed attempt certain however late a loaded machine starts the script),
  // then sshd greets after a line of pre-banner text.
  let accepted = 0;
  const opening = setTimeout(async () => {
    server = await listen(port, (socket) =>
      accepted++ === 0
        ? socket.resetAndDestroy()
        : socket.end("booting banner line\r\nSSH-2.0-OpenSSH_9.6 test\r\n"),
    );
  }, 3000);
  try {
    const run = await runWaiter(port, 30);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /sshd at 127\.0\.0\.1:\d+ answers \(SSH-2\.0-OpenSSH_9\.6 test\) after [2-9] attempt\(s\); logging in as ubuntu/,
    );
    assert.ok(run.ms >= 3000, `waited ${run.ms} ms for a port that opened after 3000 ms`);
  } finally {
    clearTimeout(opening);
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  }
});

test("a port that never opens fails once the wait is over, saying where and what to check", async () => {
  const port = await freePort();
  const run = await runWaiter(port, 4);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    new RegExp(`sshd at 127\\.0\\.0\\.1:${port} did not answer within 4 s \\(last attempt: ECONNREFUSED\\)`),
  );
  assert.match(run.stderr, /cloud firewall or the router admits the deployer's address/);
  // It stops trying once another attempt, 2 s on, would end past the wait; the upper bound is
  // only the runaway guard's (a loaded machine may take seconds to start the script).
  assert.ok(run.ms >= 2000 && run.ms < 15_000, `gave up after ${run.ms} ms`);
});

test("a port that answers without an SSH banner is not taken for sshd", async () => {
  const port = await freePort();
  const server = await listen(port, (socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  try {
    const run = await runWaiter(port, 3);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /closed the connection before sending an SSH banner/);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
