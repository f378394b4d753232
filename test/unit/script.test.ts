import { test } from "node:test";
import { cannotRun } from "../support/cannotRun";
import { analyzeUnit, hasSystemdAnalyze } from "../support/systemdAnalyze";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parsePolicy } from "../../components/policy/parse";
import {
  REMOTE_SHELL,
  renderConfirmScript,
  renderConvergeScript,
  renderVerifyScript,
} from "../../components/hardening/script";
import { HOST_DEFAULTS, parseHardeningOptions } from "../../components/hardening/options";
import { PolicyError } from "../../components/policy/errors";
import { renderUfwRules } from "../../components/hardening/ufwRules";
import { renderDockerRules } from "../../components/hardening/dockerRules";
import { renderSshdConfig } from "../../components/hardening/sshdConfig";

const { policy } = parsePolicy({
  ssh: { adminCidrs: ["203.0.113.50", "2001:db8::/32"] },
  services: [{ name: "openclaw-api", ports: [8000, "9000-9010"], sources: ["192.168.1.0/24"] }],
  logging: "high",
});
const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/hardening/hardening.sh"), "utf8");

const heredoc = (script: string) =>
  /<<'OPENCLAW_DESIRED'\n([\s\S]*?)\nOPENCLAW_DESIRED\n/.exec(script)![1]!.split("\n");

/** The body of one shell function in the library. */
function fn(name: string): string {
  const start = LIBRARY.indexOf(`\n${name}() {`);
  assert.ok(start >= 0, `no function ${name}`);
  return LIBRARY.slice(start, LIBRARY.indexOf("\n}\n", start) + 2);
}
/** Asserts that every needle occurs in `text`, each after the one before it. */
function inOrder(text: string, ...needles: string[]): void {
  let at = -1;
  for (const needle of needles) {
    const i = text.indexOf(needle, at + 1);
    assert.ok(
      i >= 0,
      `${needle} is missing, or not after ${needles[needles.indexOf(needle) - 1] ?? "the start"}`,
    );
    at = i;
  }
}
/** Runs `body` with the library's functions defined, in bash, with PATH limited to the system's. */
function withLibrary(body: string, env: Record<string, string> = {}) {
  return spawnSync("bash", ["-c", `${LIBRARY}\n${body}`], {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
  });
}
// Failure messages advise the operator (e.g. a reload in a maintenance window); only what runs counts.
const code = (text: string) => text.replace(/fail "[^"]*"/g, 'fail "..."').replace(/^\s*#.*$/gm, "");

test("both scripts are valid bash, carry exactly the rendered rules and end in one call", () => {
  const settings = { rollbackAfter: 45, stateDir: "/srv/openclaw-state" };
  for (const [script, entry] of [
    [renderConvergeScript(policy, settings), "converge_main"],
    [renderVerifyScript(policy, settings), "verify_main"],
  ] as const) {
    const check = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(heredoc(script), renderUfwRules(policy));
    assert.match(script, /^WANT_LOGGING='high'$/m);
    assert.match(script, /^WANT_DEFAULTS='deny \(incoming\), allow \(outgoing\)'$/m);
    assert.match(script, /^STATE='\/srv\/openclaw-state'$/m);
    assert.match(script, /^ROLLBACK_AFTER='45'$/m);
    assert.equal(script.trimEnd().split("\n").at(-1), entry);
  }
  assert.match(renderConvergeScript(policy), /^STATE='\/var\/lib\/openclaw'$/m);
});

test("the library assigns no globals, so the header's OPENCLAW_GLOBALS is all the rollback script needs", () => {
  assert.deepEqual(LIBRARY.match(/^[A-Za-z_][A-Za-z0-9_]*=/gm), null);
  const header = renderConvergeScript(policy).split(LIBRARY.trimEnd())[0]!;
  const globals = /^OPENCLAW_GLOBALS='([A-Z0-9_ ]+)'$/m.exec(header)![1]!.split(" ");
  for (const name of globals) assert.match(header, new RegExp(`^${name}=`, "m"));
  // Every upper-case variable the library reads is a global, the environment, or set by a step.
  // KERNEL: a local of converge and verify_main, filled by read_kernel.
  const setBySteps = [
    "ADDED",
    "REMOVED",
    "BATCH",
    "PATH",
    "LC_ALL",
    "OPENCLAW_GLOBALS",
    "SUDO_USER",
    "KERNEL",
  ];
  const used = new Set([...LIBRARY.matchAll(/\$\{?!?([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
  assert.deepEqual(
    [...used].filter((n) => !globals.includes(n) && !setBySteps.includes(n)),
    [],
  );
});

test("a script cut short in transit runs nothing", () => {
  const script = renderConvergeScript(policy, { rollbackAfter: 30, stateDir: "/nonexistent/openclaw" });
  const lines = script.split("\n");
  const last = lines.lastIndexOf("converge_main");
  // Cut at every 7th line and inside the final call: bash only defines variables and functions.
  const cuts = [...lines.keys()]
    .filter((i) => i % 7 === 0 && i < last)
    .map((i) => lines.slice(0, i).join("\n"));
  cuts.push(lines.slice(0, last).join("\n") + "\nconverge_ma");
  assert.ok(cuts.length > 50, `${cuts.length} cuts`);
  const run = (text: string) =>
    spawnSync("bash", ["-s"], { input: text, encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  for (const cut of cuts) {
    const out = run(cut);
    assert.doesNotMatch(out.stdout + out.stderr, /openclaw:/, `ran something when cut:\n${cut.slice(-200)}`);
    assert.ok(!fs.existsSync("/nonexistent/openclaw"));
  }
  // Positive control: what the check looks for is what the script prints once a call runs. The
  // whole script up to its call, then a call that changes nothing, does print it.
  const control = run(lines.slice(0, last).join("\n") + '\nsay "a call ran"');
  assert.equal(control.stdout, "openclaw: a call ran\n");
  // And the real call, had it arrived, runs: as a non-root user here it stops at its first check.
  const whole = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-s"], {
    input: script,
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin" },
  });
  assert.match(whole.stderr, /^openclaw: FAILED: must run as root/m);
});

test("a live firewall is changed rule by rule: never reload, reset or default; disable only to restore an inactive one", () => {
  const library = code(LIBRARY);
  // systemd's daemon-reload (after installing the boot guard's unit) reloads unit files, not UFW.
  assert.doesNotMatch(library, /(?<!daemon-)\b(reload|reset)"?\)?$/m);
  assert.doesNotMatch(library, /ufw (--force )?(reload|reset)\b/);
  // Defaults and the one enable are only queued in converge_main's branches for an inactive firewall.
  const converge = code(fn("converge"));
  const queued = (what: RegExp) => [...library.matchAll(what)].map((m) => m.index!);
  const inactiveBranches = [
    ...converge.matchAll(/if \[ "\$active" = no \]; then\n([\s\S]*?)\n {4}(else|fi)/g),
  ].map((m) => m[1]!);
  assert.equal(inactiveBranches.length, 2);
  assert.equal(queued(/BATCH\+=\("default /g).length, 1);
  assert.match(
    inactiveBranches[0]!,
    /BATCH\+=\("default deny incoming" "default \$WANT_OUTGOING outgoing"\)/,
  );
  assert.equal(queued(/--force enable/g).length, 1);
  assert.match(inactiveBranches[1]!, /BATCH\+=\("--force enable"\)/);
  // The one disable is the rollback of a first run: the firewall was off before it.
  assert.equal(queued(/ufw --force disable/g).length, 1);
  assert.match(code(fn("rollback")), /= no \]; then\s+! is_active \|\| ufw --force disable/);
  // Additions are queued before deletions, so a moved port is never closed to everyone in between.
  inOrder(fn("plan_rules"), 'BATCH+=("${line#ufw }")', 'BATCH+=("delete ${line#ufw }")');
});

test("the rollback is armed before the first change and disarmed only by verify, after its checks", () => {
  const converge = code(fn("converge"));
  // snapshot, then the guard timer, then every change; the configured window once all are in force.
  inOrder(
    converge,
    "snapshot",
    "arm_rollback",
    "sshd_install",
    "sed -i",
    "run_batch",
    'own_apply "$DOCKER_CHAIN"',
  );
  inOrder(converge, "arm_rollback", "reload_user_chains", "sshd_reload", "start_window");
  inOrder(converge, 'own_apply "$DOCKER_CHAIN"', "start_window");
  // sshd's replies are in after.rules before the batch's first enable loads it.
  inOrder(converge, "arm_rollback", 'own_apply "$SSH_REPLIES_CHAIN"', "run_batch");
  assert.equal(converge.split("start_window").length, 2, "one start_window");
  inOrder(code(fn("arm_rollback")), "rollback.sh", "install_boot_guard", 'start_timer "$STEP_TIMEOUT"');
  inOrder(code(fn("start_window")), 'start_timer "$ROLLBACK_AFTER"', "write_pending", "stop_timer $old");
  const verify = code(fn("verify_main"));
  inOrder(verify, "policy_problems", 'restore_now "verify found differences', "disarm");
  inOrder(code(fn("policy_problems")), "ufw_added", "own_drift", "kernel_drift");
  inOrder(verify, "session_after_change", "disarm");
  assert.doesNotMatch(converge, /disarm/);
  // A change verify applied again is left to the confirm step's newer connection.
  inOrder(
    verify,
    "last_change_rolled_back",
    "converge",
    'reapplied" = yes ] && [ -f "$STATE/pending" ]',
    "disarm",
  );
  assert.match(LIBRARY, /^confirm_main\(\) { verify_main confirm; }$/m);
});

test("the verify and confirm scripts differ only in their call", () => {
  const verify = renderVerifyScript(policy);
  const confirm = renderConfirmScript(policy);
  assert.equal(
    confirm.replace(/confirm_main\n$/, "verify_main\n").replace(/confirm_main\./, "verify_main."),
    verify,
  );
  assert.equal(confirm.trimEnd().split("\n").at(-1), "confirm_main");
});

test("the window: the guard timer lasts the step's timeout, the configured clock runs from the change in force", () => {
  const script = renderConvergeScript(policy, { rollbackAfter: 45, timeout: "1h30m" });
  assert.match(script, /^STEP_TIMEOUT='5400'$/m);
  assert.match(script, /^ROLLBACK_AFTER='45'$/m);
});

test("a timer is signalled only while its pid still has the start time saved with it", async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-timer-"));
  // A process of our own in its own session, like the detached timer.
  const sleeper = spawnSync("bash", ["-c", "setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $!"], {
    encoding: "utf8",
  });
  const pid = Number(sleeper.stdout.trim());
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  try {
    const started = fs
      .readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /s, "")
      .split(" ")[19]!;
    const disarm = (startTime: string) => {
      fs.writeFileSync(
        path.join(state, "pending"),
        `id=x\nhow=detached\nhandle=${pid}\nstarted=${startTime}\ninforce=-\n`,
      );
      return withLibrary("disarm", { STATE: state });
    };
    // The pid of another process (a reboot reuses pids): never signalled.
    assert.equal(disarm(String(Number(started) + 1)).status, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(alive(), "a process with another start time was signalled");
    assert.equal(
      withLibrary(`timer_alive detached ${pid} ${Number(started) + 1} || echo dead`).stdout,
      "dead\n",
    );
    // Control: with its own start time, it is the timer, and it is stopped.
    assert.equal(withLibrary(`timer_alive detached ${pid} ${started} && echo alive`).stdout, "alive\n");
    assert.equal(disarm(started).status, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!alive(), "the timer was not stopped");
  } finally {
    if (alive()) process.kill(pid, "SIGKILL");
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test("the boot guard: a systemd unit that systemd-analyze accepts, ordered before UFW", (t) => {
  const unit = withLibrary("guard_unit", { STATE: "/var/lib/openclaw" }).stdout;
  for (const line of [
    "DefaultDependencies=no",
    "Before=ufw.service network-pre.target",
    "ConditionPathExists=/var/lib/openclaw/pending",
    "ExecStart=/etc/ufw/openclaw-rollback /var/lib/openclaw boot",
    "WantedBy=ufw.service",
  ]) {
    assert.ok(unit.split("\n").includes(line), `${line} missing from:\n${unit}`);
  }
  if (!hasSystemdAnalyze()) {
    cannotRun(t, "systemd-analyze is not installed");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-unit-"));
  try {
    const file = path.join(dir, "openclaw-boot-guard.service");
    // systemd-analyze wants the unit's command to exist: a runner of the test's own stands in.
    const runner = path.join(dir, "openclaw-rollback");
    fs.writeFileSync(runner, "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(file, unit.replace("/etc/ufw/openclaw-rollback", runner));
    const check = analyzeUnit(file);
    // Only what concerns our unit: the machine's other units are not under test.
    const ours = (check.stderr + check.stdout).split("\n").filter((l) => l.includes("openclaw-boot-guard"));
    assert.deepEqual(ours, []);
    assert.equal(check.status, 0, check.stderr);
    // Control: a broken unit is reported.
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("Type=oneshot", "Type=sometimes"));
    const broken = analyzeUnit(file);
    assert.match(broken.stderr, /openclaw-boot-guard\.service:\d+: Failed to parse service type/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("UFW's start hooks run the rollback, through the runner, only while a change is pending", () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-hook-"));
  try {
    // A stand-in for the runner, which records how it was called.
    const runner = path.join(state, "runner");
    fs.writeFileSync(runner, `#!/bin/sh\necho "runner $*" >>${state}/ran\n`, { mode: 0o755 });
    const hook = (name: string) =>
      withLibrary(`runner_file() { echo ${runner}; }; guard_hook ${name}`, { STATE: state }).stdout.trim();
    const start = (name: string, arg: string) => spawnSync("sh", ["-c", hook(name), name, arg]);
    const ran = () =>
      fs.existsSync(path.join(state, "ran")) ? fs.readFileSync(path.join(state, "ran"), "utf8") : "";
    start("before.init", "start");
    start("after.init", "start");
    assert.equal(ran(), "", "ran with nothing pending");
    fs.writeFileSync(path.join(state, "pending"), "id=x\n");
    fs.writeFileSync(path.join(state, "stop-ufw"), "");
    start("before.init", "stop");
    start("after.init", "stop");
    assert.equal(ran(), "", "ran on stop");
    start("before.init", "start");
    start("after.init", "start");
    assert.equal(ran(), `runner ${state} ufw-start\nrunner ${state} ufw-started\n`);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test("whether the policy admits the address a session comes from", (t) => {
  if (spawnSync("sh", ["-c", "command -v ufw"]).status !== 0) {
    cannotRun(t, "needs ufw's python");
    return;
  }
  const desired = (adminCidrs: string[], port = 22) =>
    renderUfwRules(parsePolicy({ ssh: { adminCidrs, port }, services: [] }).policy).join("\n");
  const admits = (rules: string, address: string, port = 22) =>
    withLibrary(`policy_admits ${address} ${port} && echo yes || echo no`, { DESIRED: rules }).stdout.trim();
  assert.equal(admits(desired(["0.0.0.0/0", "::/0"]), "198.51.100.10"), "yes");
  assert.equal(admits(desired(["0.0.0.0/0", "::/0"]), "2001:db8:3::10"), "yes");
  assert.equal(admits(desired(["203.0.113.0/24"]), "198.51.100.10"), "no");
  assert.equal(admits(desired(["203.0.113.0/24"]), "203.0.113.9"), "yes");
  assert.equal(admits(desired(["203.0.113.50"]), "203.0.113.50"), "yes");
  assert.equal(admits(desired(["2001:db8::/32"]), "2001:db8:3::10"), "yes");
  assert.equal(admits(desired(["2001:db8::/32"]), "198.51.100.10"), "no");
  assert.equal(admits(desired(["0.0.0.0/0"]), "2001:db8:3::10"), "no");
  assert.equal(admits(desired(["198.51.100.0/24"], 2222), "198.51.100.10", 22), "no");
  assert.equal(admits(desired(["198.51.100.0/24"], 2222), "198.51.100.10", 2222), "yes");
});

test("the command text is constant and holds no policy", () => {
  assert.doesNotMatch(REMOTE_SHELL, /ufw|openclaw|\d+\.\d+\.\d+\.\d+/);
  assert.match(REMOTE_SHELL, /sudo -n/);
});

test("hardening options: defaults, and every bad value named with what is accepted", () => {
  assert.deepEqual(parseHardeningOptions(undefined, "k"), HOST_DEFAULTS);
  assert.deepEqual(parseHardeningOptions({ rollbackAfter: 30 }, "k"), {
    ...HOST_DEFAULTS,
    rollbackAfter: 30,
  });
  const problems = (raw: unknown) => {
    try {
      parseHardeningOptions(raw, "openclaw:hardening");
    } catch (e) {
      assert.ok(e instanceof PolicyError);
      return e.problems.map((p) => `${p.key} ${JSON.stringify(p.value)}`);
    }
    return [];
  };
  assert.deepEqual(problems({ stateDir: "/var/lib/x'; reboot; '" }), [
    `openclaw:hardening.stateDir "/var/lib/x'; reboot; '"`,
  ]);
  assert.deepEqual(problems({ stateDir: "relative/dir" }), ['openclaw:hardening.stateDir "relative/dir"']);
  assert.deepEqual(problems({ stateDir: "/var/../etc" }), ['openclaw:hardening.stateDir "/var/../etc"']);
  assert.deepEqual(problems({ rollbackAfter: 2 }), ["openclaw:hardening.rollbackAfter 2"]);
  // The window must outlast the step between the change in force and verify's connection.
  assert.deepEqual(problems({ rollbackAfter: 29 }), ["openclaw:hardening.rollbackAfter 29"]);
  assert.deepEqual(problems({ rollbackAfter: 30 }), []);
  assert.deepEqual(problems({ rollbackAfter: 600, timeout: "5m" }), ["openclaw:hardening.rollbackAfter 600"]);
  assert.deepEqual(problems({ timeout: "ten minutes" }), ['openclaw:hardening.timeout "ten minutes"']);
  assert.deepEqual(problems({ perDialTimeout: 0 }), ["openclaw:hardening.perDialTimeout 0"]);
  assert.deepEqual(problems({ rollback: 30 }), ["openclaw:hardening.rollback 30"]);
  assert.deepEqual(problems(["10m"]), ['openclaw:hardening ["10m"]']);
});

test("Docker rules: admitted (port, source) pairs return to Docker, other published connections are logged and drop", () => {
  const config = {
    ssh: { adminCidrs: ["0.0.0.0/0"] },
    services: [
      { name: "gateway", ports: [8080, "9000-9010"], sources: ["192.168.1.0/24", "2001:db8:1::/64"] },
      { name: "web", port: 443, sources: ["0.0.0.0/0", "::/0"], public: true },
    ],
  };
  const { policy: p } = parsePolicy(config);
  const chain = "-A openclaw-docker-user";
  // As UFW logs its own blocks, so rsyslog files it in ufw.log and npm run blocks reads it.
  const log = `${chain} -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "`;
  const head = [
    `${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `${chain} -m conntrack ! --ctstate DNAT -j RETURN`,
  ];
  assert.deepEqual(renderDockerRules(p), {
    v4: [
      ...head,
      `${chain} -s 192.168.1.0/24 -p tcp -m conntrack --ctorigdstport 8080 -j RETURN`,
      `${chain} -s 192.168.1.0/24 -p tcp -m conntrack --ctorigdstport 9000:9010 -j RETURN`,
      `${chain} -p tcp -m conntrack --ctorigdstport 443 -j RETURN`,
      log,
      `${chain} -j DROP`,
    ],
    v6: [
      ...head,
      `${chain} -s 2001:db8:1::/64 -p tcp -m conntrack --ctorigdstport 8080 -j RETURN`,
      `${chain} -s 2001:db8:1::/64 -p tcp -m conntrack --ctorigdstport 9000:9010 -j RETURN`,
      `${chain} -p tcp -m conntrack --ctorigdstport 443 -j RETURN`,
      log,
      `${chain} -j DROP`,
    ],
  });
  // With logging off, UFW logs nothing and neither do we.
  const { policy: quiet } = parsePolicy({ ...config, logging: "off" });
  assert.ok(renderDockerRules(quiet).v4.every((r) => !r.includes("LOG")));
  assert.equal(
    renderDockerRules(quiet).v6.at(-2),
    `${chain} -p tcp -m conntrack --ctorigdstport 443 -j RETURN`,
  );
});

test("Docker rules with outgoing denied: containers' own new connections follow the allow-list", () => {
  const { policy: p } = parsePolicy({
    ssh: { adminCidrs: ["0.0.0.0/0"] },
    services: [{ name: "gateway", port: 8080, sources: ["192.168.1.0/24"] }],
    outgoing: {
      policy: "deny",
      allow: [
        { name: "dns", port: 53, protocol: "udp", destinations: ["192.0.2.53"] },
        { name: "https", port: 443, destinations: ["0.0.0.0/0", "2001:db8:2::/64"] },
      ],
    },
  });
  const chain = "-A openclaw-docker-user";
  const log = '-m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "';
  const notPublished = "-m conntrack ! --ctstate DNAT";
  assert.deepEqual(renderDockerRules(p).v4, [
    `${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    // Between containers: out through a Docker bridge.
    `${chain} -o docker0 ${notPublished} -j RETURN`,
    `${chain} -o br-+ ${notPublished} -j RETURN`,
    `${chain} -d 192.0.2.53/32 -p udp -m udp --dport 53 ${notPublished} -j RETURN`,
    `${chain} -p tcp -m tcp --dport 443 ${notPublished} -j RETURN`,
    `${chain} ${notPublished} ${log}`,
    `${chain} ${notPublished} -j DROP`,
    // Published connections, as with outgoing allowed.
    `${chain} -s 192.168.1.0/24 -p tcp -m conntrack --ctorigdstport 8080 -j RETURN`,
    `${chain} ${log}`,
    `${chain} -j DROP`,
  ]);
  assert.ok(
    renderDockerRules(p).v6.includes(
      `${chain} -d 2001:db8:2::/64 -p tcp -m tcp --dport 443 ${notPublished} -j RETURN`,
    ),
  );
});

test("Docker rules with IPv6 off: the IPv6 chain drops everything, as the host does", () => {
  const { policy: p } = parsePolicy({ ipv6: false, ssh: { adminCidrs: ["0.0.0.0/0"] } });
  const chain = "-A openclaw-docker-user";
  assert.deepEqual(renderDockerRules(p).v6, [
    `${chain} -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "`,
    `${chain} -j DROP`,
  ]);
});

test("Docker's nftables backend fails the step with a clear message; the iptables backend passes", () => {
  const problem = (driver: string, running = true) =>
    spawnSync(
      "bash",
      [
        "-c",
        `${fn("docker_backend_problem")}\ndocker_running() { ${running}; }\ndocker() { echo "${driver}"; }\ndocker_backend_problem`,
      ],
      { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } },
    ).stdout;
  assert.match(
    problem("nftables"),
    /^Docker uses its nftables firewall backend, which has no DOCKER-USER chain/,
  );
  assert.equal(problem("iptables"), "");
  // No daemon on its socket: the client is not started (it would answer nftables here).
  assert.equal(problem("nftables", false), "");
});

test("sshd options: extra settings are rendered after the fixed ones; the fixed ones cannot be weakened", () => {
  const sshd = parseHardeningOptions(
    { sshd: { settings: { MaxAuthTries: 3, X11Forwarding: false } } },
    "k",
  ).sshd;
  assert.deepEqual(sshd, { settings: { MaxAuthTries: "3", X11Forwarding: "no" } });
  assert.equal(
    renderSshdConfig(sshd ? sshd.settings : {}),
    "# Managed by the openclaw hardening (hardening.sshd): no password logins, root by key only.\n" +
      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n" +
      "MaxAuthTries 3\nX11Forwarding no",
  );
  assert.equal(parseHardeningOptions({ sshd: false }, "k").sshd, false);
  const keys = (raw: unknown) => {
    try {
      parseHardeningOptions(raw, "openclaw:hardening");
      return [];
    } catch (e) {
      return (e as PolicyError).problems.map((p) => p.key);
    }
  };
  assert.deepEqual(keys({ sshd: { settings: { passwordauthentication: "yes" } } }), [
    "openclaw:hardening.sshd.settings.passwordauthentication",
  ]);
  assert.deepEqual(keys({ sshd: { settings: { Banner: "x\nMatch all" } } }), [
    "openclaw:hardening.sshd.settings.Banner",
  ]);
  assert.deepEqual(keys({ sshd: { settings: { "Max Auth": 3 } } }), [
    "openclaw:hardening.sshd.settings.Max Auth",
  ]);
  assert.deepEqual(keys({ sshd: "yes" }), ["openclaw:hardening.sshd"]);
  assert.deepEqual(keys({ docker: "yes" }), ["openclaw:hardening.docker"]);
});

// rollback.sh as the boot guard runs it (the systemd unit: boot; UFW's start hook: ufw-start), in
// a private mount namespace whose /etc/ufw and /etc/default are scratch copies: the machine's own
// files are never touched. The sandbox and the booted host prove the whole reboot; this pins
// the decision itself: restore exactly when a change is pending and its timer is dead.
test("at boot, rollback.sh restores an unconfirmed change only when its timer is dead", (t) => {
  if (process.getuid?.() !== 0 || spawnSync("unshare", ["-m", "true"]).status !== 0) {
    cannotRun(t, "needs root and a private mount namespace (unshare -m), as CI has");
    return;
  }
  const boot = (pending: string | undefined, mode: "boot" | "ufw-start", wasActive = "yes") => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-boot-"));
    try {
      const state = path.join(dir, "state");
      const snap = path.join(state, "snapshot");
      const ufw = path.join(dir, "ufw");
      fs.mkdirSync(snap, { recursive: true });
      fs.mkdirSync(ufw);
      fs.mkdirSync(path.join(dir, "default"));
      for (const f of ["user.rules", "user6.rules", "after.rules", "after6.rules", "ufw.conf"]) {
        fs.writeFileSync(path.join(snap, f), `before ${f}\n`);
        fs.writeFileSync(path.join(ufw, f), `changed ${f}\n`);
      }
      fs.writeFileSync(path.join(snap, "default-ufw"), "IPV6=yes\n");
      fs.writeFileSync(path.join(dir, "default", "ufw"), "IPV6=no\n");
      fs.writeFileSync(path.join(snap, "active"), `${wasActive}\n`);
      if (pending !== undefined) fs.writeFileSync(path.join(state, "pending"), pending);
      const r = spawnSync(
        "unshare",
        [
          "-m",
          "bash",
          "-c",
          `mount --bind "$1/ufw" /etc/ufw && mount --bind "$1/default" /etc/default\n${LIBRARY}\nrollback_main "$2"`,
          "_",
          dir,
          mode,
        ],
        {
          encoding: "utf8",
          env: {
            PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
            STATE: state,
            ROLLBACK_AFTER: "120",
            WANT_SSHD: "no",
          },
        },
      );
      const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);
      return {
        code: r.status,
        stderr: r.stderr,
        rules: read(path.join(ufw, "user.rules")),
        conf: read(path.join(ufw, "ufw.conf")),
        defaults: read(path.join(dir, "default", "ufw")),
        pending: read(path.join(state, "pending")),
        rolledBack: read(path.join(state, "rolled-back")),
        stopUfw: fs.existsSync(path.join(state, "stop-ufw")),
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // A detached timer whose pid is gone, as after any reboot.
  const dead = "id=c1\nhow=detached\nhandle=2147483646\nstarted=1\ninforce=5\n";

  const restored = boot(dead, "boot");
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.rules, "before user.rules\n");
  assert.equal(restored.conf, "before ufw.conf\n");
  assert.equal(restored.defaults, "IPV6=yes\n");
  assert.equal(restored.pending, undefined, "the change is no longer pending");
  assert.match(
    restored.rolledBack ?? "",
    /^id=c1\n.*\nreason=the host restarted before it was confirmed\n$/s,
  );

  // UFW's start hook: the same restore; where UFW was off before the change, it is stopped again.
  const hook = boot(dead, "ufw-start", "no");
  assert.equal(hook.rules, "before user.rules\n");
  assert.ok(hook.stopUfw, "after.init is told to stop UFW again");
  assert.ok(!boot(dead, "ufw-start", "yes").stopUfw);

  // Nothing pending: nothing to do.
  const quiet = boot(undefined, "boot");
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.rules, "changed user.rules\n");

  // A live timer: UFW started because a step enabled it, not at boot; the change stays.
  const sleeper = spawnSync("bash", ["-c", "setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $!"], {
    encoding: "utf8",
  });
  const pid = Number(sleeper.stdout.trim());
  try {
    const started = fs
      .readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /s, "")
      .split(" ")[19]!;
    const live = boot(`id=c1\nhow=detached\nhandle=${pid}\nstarted=${started}\ninforce=5\n`, "ufw-start");
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.rules, "changed user.rules\n");
    assert.ok(live.pending !== undefined, "still pending");
  } finally {
    process.kill(-pid, "SIGKILL");
  }
});

// The state fingerprint and its record, run for real in a private mount namespace whose /etc/ufw
// and /etc/default are scratch directories: the machine's own files are never touched.
function withScratchUfw(files: Record<string, string>, body: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-fingerprint-"));
  try {
    fs.mkdirSync(path.join(dir, "ufw"));
    fs.mkdirSync(path.join(dir, "default"));
    fs.mkdirSync(path.join(dir, "state"));
    fs.writeFileSync(path.join(dir, "default", "ufw"), "IPV6=yes\n");
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, "ufw", name), text);
    return spawnSync(
      "unshare",
      [
        "-m",
        "bash",
        "-c",
        `mount --bind "$1/ufw" /etc/ufw && mount --bind "$1/default" /etc/default\n${LIBRARY}\n` +
          `OPENCLAW_GLOBALS=DESIRED; DESIRED=x; declare -A KERNEL=([iptables]=v4 [ip6tables]=v6)\n${body}`,
        "_",
        dir,
      ],
      {
        encoding: "utf8",
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", STATE: path.join(dir, "state") },
      },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const RULES = {
  "ufw.conf": "ENABLED=yes\n",
  "user.rules": "*filter\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
  "user6.rules": "*filter\n-A ufw6-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
  "after.rules": "*filter\nCOMMIT\n",
  "after6.rules": "*filter\nCOMMIT\n",
};
const scratchUnavailable = () =>
  process.getuid?.() !== 0 || spawnSync("unshare", ["-m", "true"]).status !== 0
    ? "needs root and a private mount namespace (unshare -m), as CI has"
    : undefined;

test("the state fingerprint changes when a line moves from one of UFW's files to another", (t) => {
  const why = scratchUnavailable();
  if (why) return cannotRun(t, why);
  const fingerprint = (files: Record<string, string>) => {
    const r = withScratchUfw(files, "state_fingerprint");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    return r.stdout;
  };
  const before = fingerprint(RULES);
  assert.equal(fingerprint(RULES), before, "the same files, the same fingerprint");
  // user.rules' last COMMIT moved to the top of user6.rules: the files joined end to end are the same.
  const moved = {
    ...RULES,
    "user.rules": RULES["user.rules"].replace(/COMMIT\n$/, ""),
    "user6.rules": `COMMIT\n${RULES["user6.rules"]}`,
  };
  assert.equal(moved["user.rules"] + moved["user6.rules"], RULES["user.rules"] + RULES["user6.rules"]);
  assert.notEqual(fingerprint(moved), before);
});

test("a check is recorded only for the state it read: a file changed meanwhile leaves no record", (t) => {
  const why = scratchUnavailable();
  if (why) return cannotRun(t, why);
  const recorded = (between: string) => {
    const r = withScratchUfw(
      RULES,
      `fp=$(state_fingerprint)\n${between}\nrecord_checked "$fp" "" "status"\n` +
        `if checked_before "$fp"; then echo recorded; else echo none; fi`,
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(recorded(":"), "recorded");
  assert.equal(recorded("echo '# changed' >>/etc/ufw/user.rules"), "none");
  // An earlier record is not left standing for a state no check saw.
  assert.equal(recorded(`record_checked "$fp" ""\necho '# changed' >>/etc/ufw/after.rules`), "none");
});

test("an empty fingerprint never matches, with or without a record", () => {
  const matches = (record: string | undefined, given: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-checked-"));
    try {
      if (record !== undefined) {
        fs.mkdirSync(path.join(dir, "checked"));
        fs.writeFileSync(path.join(dir, "checked", "fingerprint"), `${record}\n`);
      }
      return withLibrary(`checked_before "${given}"`, { STATE: dir }).status === 0;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  assert.equal(matches("abc", "abc"), true);
  assert.equal(matches("abc", "abd"), false);
  assert.equal(matches(undefined, ""), false, "no record and an empty fingerprint");
  assert.equal(matches("", ""), false, "an empty record and an empty fingerprint");
});
