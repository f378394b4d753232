import * as fs from "node:fs";
import * as path from "node:path";
import type { FirewallPolicy } from "../policy/types";
import { UFW_COMMENT_PREFIX, renderUfwRules } from "./ufwRules";
import { DOCKER_CHAIN, renderDockerRules } from "./dockerRules";
import { SSH_REPLIES_CHAIN, renderSshReplies } from "./sshReplies";
import { SSHD_DROPIN, SSHD_MAIN, renderSshdConfig } from "./sshdConfig";
import { HOST_DEFAULTS, type HostSettings, seconds } from "./options";
import { sshdEffective } from "./sshdSettings";

/**
 * The command text of every hardening step. It is constant: the script and the policy travel
 * on stdin, so nothing declared ever appears in a command line, a process list or an error.
 */
export const REMOTE_SHELL =
  'if [ "$(id -u)" -eq 0 ]; then exec /bin/bash -s; else exec sudo -n /bin/bash -s; fi';

// Real files, so they can be read, linted and run on their own; rendered verbatim.
const LIBRARY = fs.readFileSync(path.join(__dirname, "hardening.sh"), "utf8");
const UFW_BATCH = fs.readFileSync(path.join(__dirname, "ufw_batch.py"), "utf8");

/**
 * The host scripts by file name, as read once when this module loaded: exactly the text every
 * step renders. bench/results.ts hashes these, so a figure names the scripts that were measured.
 */
export const RENDERED_HOST_SCRIPTS: Readonly<Record<string, string>> = {
  "hardening.sh": LIBRARY,
  "ufw_batch.py": UFW_BATCH,
};

type ScriptSettings = Pick<
  HostSettings,
  "timeout" | "rollbackAfter" | "stateDir" | "docker" | "sshd" | "unmanagedRules"
>;

/** `NAME=value` for a word that needs no quoting, or a quoted heredoc for any text. */
export function assign(name: string, value: string | number): string {
  if (typeof value === "number" || (/^[A-Za-z0-9_./:()@, -]*$/.test(value) && !value.includes("\n"))) {
    return `${name}='${value}'`;
  }
  // The shell expands nothing inside a quoted heredoc; no rendered line can equal its delimiter.
  const delimiter = `OPENCLAW_${name}`;
  if (value.split("\n").includes(delimiter)) throw new Error(`${name} contains its delimiter ${delimiter}`);
  return `${name}=$(cat <<'${delimiter}'\n${value}\n${delimiter}\n)`;
}

/**
 * Everything a step needs to know, as shell variables; then the library; then one call. The
 * library assigns no globals of its own: OPENCLAW_GLOBALS names them all, so the rollback script
 * the host writes for itself (arm_rollback) carries every one.
 */
function render(entry: string, policy: FirewallPolicy, given: Partial<ScriptSettings>): string {
  const settings: ScriptSettings = { ...HOST_DEFAULTS, ...given };
  const docker = renderDockerRules(policy);
  const replies = renderSshReplies(policy);
  const globals: [string, string | number][] = [
    ["STATE", settings.stateDir],
    ["ROLLBACK_AFTER", settings.rollbackAfter],
    // Until the change is in force, the rollback waits as long as the step may run.
    ["STEP_TIMEOUT", seconds(settings.timeout)],
    ["OWNED_TAG", UFW_COMMENT_PREFIX],
    ["WANT_IPV6", policy.ipv6 ? "yes" : "no"],
    ["WANT_DEFAULTS", `deny (incoming), ${policy.outgoing.policy} (outgoing)`],
    ["WANT_OUTGOING", policy.outgoing.policy],
    ["WANT_LOGGING", policy.logging],
    ["DESIRED", renderUfwRules(policy).join("\n")],
    ["WANT_DOCKER", settings.docker ? "yes" : "no"],
    ["DOCKER_CHAIN", DOCKER_CHAIN],
    ["DOCKER_V4", docker.v4.join("\n")],
    ["DOCKER_V6", docker.v6.join("\n")],
    ["SSH_REPLIES_CHAIN", SSH_REPLIES_CHAIN],
    ["SSH_REPLIES_V4", replies.v4.join("\n")],
    ["SSH_REPLIES_V6", replies.v6.join("\n")],
    ["WANT_SSHD", settings.sshd ? "yes" : "no"],
    ["SSHD_MAIN", SSHD_MAIN],
    ["SSHD_DROPIN", SSHD_DROPIN],
    ["SSHD_CONFIG", settings.sshd ? renderSshdConfig(settings.sshd.settings) : ""],
    // What sshd -T prints for the extra settings, which verify checks sshd applies.
    ["SSHD_EFFECTIVE", settings.sshd ? sshdEffective(settings.sshd.settings).join("\n") : ""],
    ["UFW_BATCH_PY", UFW_BATCH.trimEnd()],
    ["UNMANAGED", settings.unmanagedRules],
  ];
  return [
    "#!/bin/bash",
    `# openclaw hardening: ${entry}. Generated from the declared policy; see components/hardening/hardening.sh.`,
    ...globals.map(([name, value]) => assign(name, value)),
    assign("OPENCLAW_GLOBALS", globals.map(([name]) => name).join(" ")),
    "",
    LIBRARY.trimEnd(),
    "",
    entry,
    "",
  ].join("\n");
}

/**
 * Converges UFW to the policy. First run: defaults, SSH rules first, then services, logging,
 * one `ufw --force enable`. Later runs add what is missing, then delete what is no longer
 * declared: never reload, reset, default or disable on a live firewall, since each of those
 * rebuilds every chain and leaves the host open meanwhile. Before any change the host saves
 * its rules and arms a rollback that only the verify step, over a new connection, disarms.
 */
export function renderConvergeScript(policy: FirewallPolicy, settings: Partial<ScriptSettings> = {}): string {
  return render("converge_main", policy, settings);
}

/**
 * Compares what the host enforces (UFW's files and the kernel's chains) with the policy. A
 * match confirms the pending change; any difference is printed, the change is rolled back
 * and the step fails. When the host had rolled back the change that applied this policy (the
 * run was interrupted, or verify came late), it applies the policy again, unless that would
 * shut out the address it connects from, and leaves that change to the confirm step.
 */
export function renderVerifyScript(policy: FirewallPolicy, settings: Partial<ScriptSettings> = {}): string {
  return render("verify_main", policy, settings);
}

/**
 * The last step, from a connection opened after verify's: verifies as verify does and confirms a
 * change verify applied again. It never applies the policy itself: nothing would confirm it.
 */
export function renderConfirmScript(policy: FirewallPolicy, settings: Partial<ScriptSettings> = {}): string {
  return render("confirm_main", policy, settings);
}
