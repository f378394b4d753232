import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parsePolicy } from "../../components/policy/parse";
import { REMOTE_SHELL, renderConvergeScript, renderVerifyScript } from "../../components/host/script";
import { HOST_DEFAULTS, parseHardeningOptions } from "../../components/host/options";
import { PolicyError } from "../../components/policy/errors";
import { renderUfwRules } from "../../components/render/ufwRules";
import { renderDockerRules } from "../../components/render/dockerRules";
import { renderSshdConfig } from "../../components/render/sshdConfig";

const { policy } = parsePolicy({
  ssh: { adminCidrs: ["203.0.113.50", "2001:db8::/32"] },
  services: [{ name: "openclaw-api", ports: [8000, "9000-9010"], sources: ["192.168.1.0/24"] }],
  logging: "high",
});
const LIBRARY = fs.readFileSync(path.join(__dirname, "../../components/host/hardening.sh"), "utf8");

const heredoc = (script: string) =>
  /<<'OPENCLAW_DESIRED'\n([\s\S]*?)\nOPENCLAW_DESIRED\n/.exec(script)![1]!.split("\n");

/** The body of one shell function in the library. */
function fn(name: string): string {
  const start = LIBRARY.indexOf(`\n${name}() {`);
  assert.ok(start >= 0, `no function ${name}`);
  return LIBRARY.slice(start, LIBRARY.indexOf("\n}\n", start) + 2);
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
  const setBySteps = ["ADDED", "REMOVED", "BATCH", "PATH", "LC_ALL", "OPENCLAW_GLOBALS", "SUDO_USER"];
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
  for (const cut of cuts) {
    const run = spawnSync("bash", ["-s"], { input: cut, encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    assert.doesNotMatch(run.stdout + run.stderr, /openclaw:/, `ran something when cut:\n${cut.slice(-200)}`);
    assert.ok(!fs.existsSync("/nonexistent/openclaw"));
  }
});

test("a live firewall is changed rule by rule: never reload, reset or default; disable only to restore an inactive one", () => {
  const library = code(LIBRARY);
  assert.doesNotMatch(library, /\b(reload|reset)"?\)?$/m);
  assert.doesNotMatch(library, /ufw (--force )?(reload|reset)\b/);
  // Defaults and the one enable are only queued in converge_main's branches for an inactive firewall.
  const converge = code(fn("converge_main"));
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
  const plan = fn("plan_rules");
  assert.ok(plan.indexOf('BATCH+=("${line#ufw }")') < plan.indexOf('BATCH+=("delete ${line#ufw }")'));
});

test("the rollback is armed before the first change and disarmed only by verify, after its checks", () => {
  const converge = code(fn("converge_main"));
  const armed = converge.indexOf("arm_rollback");
  for (const change of ["sed -i", "run_batch", "reload_user_chains"]) {
    assert.ok(converge.indexOf(change) > armed, `${change} before the rollback is armed`);
  }
  assert.ok(converge.indexOf("snapshot") < armed);
  const verify = code(fn("verify_main"));
  assert.ok(verify.indexOf("disarm") > verify.indexOf("kernel_drift"));
  assert.ok(verify.indexOf('rollback "verification failed"') < verify.indexOf("disarm"));
  assert.doesNotMatch(code(fn("converge_main")), /disarm/);
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

test("Docker's nftables backend fails the step with a clear message; the iptables backend passes", () => {
  const problem = (driver: string) =>
    spawnSync(
      "bash",
      ["-c", `${fn("docker_backend_problem")}\ndocker() { echo "${driver}"; }\ndocker_backend_problem`],
      { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } },
    ).stdout;
  assert.match(
    problem("nftables"),
    /^Docker uses its nftables firewall backend, which has no DOCKER-USER chain/,
  );
  assert.equal(problem("iptables"), "");
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
