import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parsePolicy } from "../../components/policy/parse";
import { REMOTE_SHELL, renderConvergeScript, renderVerifyScript } from "../../components/host/script";
import { renderUfwRules } from "../../components/render/ufwRules";

const { policy } = parsePolicy({
  ssh: { adminCidrs: ["203.0.113.50", "2001:db8::/32"] },
  services: [{ name: "openclaw-api", ports: [8000, "9000-9010"], sources: ["192.168.1.0/24"] }],
  logging: "high",
});

const heredoc = (script: string) =>
  /<<'OPENCLAW_RULES'\n([\s\S]*?)\nOPENCLAW_RULES\n/.exec(script)![1]!.split("\n");

test("both scripts are valid bash and carry exactly the rendered rules", () => {
  for (const script of [renderConvergeScript(policy), renderVerifyScript(policy)]) {
    const check = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(heredoc(script), renderUfwRules(policy));
    assert.match(script, /^WANT_LOGGING=high$/m);
    assert.match(script, /^WANT_DEFAULTS="deny \(incoming\), allow \(outgoing\)"$/m);
  }
});

test("the converge script never rebuilds a live firewall", () => {
  // Failure messages advise the operator (e.g. a reload in a maintenance window); only what runs counts.
  const script = renderConvergeScript(policy).replace(/fail "[^"]*"/g, 'fail "..."');
  assert.doesNotMatch(script, /ufw (--force )?(reload|reset|disable)\b/);
  // `ufw default` only on an inactive firewall, before the single enable.
  const inactive = script.indexOf('say "firewall is inactive');
  const firstRunEnd = script.indexOf("FIRST_RUN=yes");
  const defaults = [...script.matchAll(/ufw default /g)].map((m) => m.index!);
  assert.ok(
    defaults.length === 2 && defaults.every((i) => i > inactive && i < firstRunEnd),
    "defaults only when inactive",
  );
  assert.equal(script.match(/ufw --force enable/g)!.length, 1);
  // Additions come before deletions, so a moved port is never closed to everyone in between.
  assert.ok(script.indexOf('ufw_rule add "$line"') < script.indexOf('ufw_rule delete "$line"'));
});

test("the command text is constant and holds no policy", () => {
  assert.doesNotMatch(REMOTE_SHELL, /ufw|openclaw|\d+\.\d+\.\d+\.\d+/);
  assert.match(REMOTE_SHELL, /sudo -n/);
});
