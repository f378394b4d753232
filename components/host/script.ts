import * as fs from "node:fs";
import * as path from "node:path";
import type { FirewallPolicy } from "../policy/types";
import { UFW_COMMENT_PREFIX, renderUfwRules } from "../render/ufwRules";
import { HOST_DEFAULTS, type HostSettings } from "./options";

/**
 * The command text of every hardening step. It is constant: the script and the policy travel
 * on stdin, so nothing declared ever appears in a command line, a process list or an error.
 */
export const REMOTE_SHELL =
  'if [ "$(id -u)" -eq 0 ]; then exec /bin/bash -s; else exec sudo -n /bin/bash -s; fi';

// Real files, so they can be read, linted and run on their own; rendered verbatim.
const LIBRARY = fs.readFileSync(path.join(__dirname, "hardening.sh"), "utf8");
const UFW_BATCH = fs.readFileSync(path.join(__dirname, "ufw_batch.py"), "utf8");

type ScriptSettings = Pick<HostSettings, "rollbackAfter" | "stateDir">;

/** A quoted heredoc: the shell expands nothing inside, and no rendered line can equal the delimiter. */
function heredoc(variable: string, delimiter: string, body: string): string {
  if (body.split("\n").includes(delimiter))
    throw new Error(`${variable} contains its delimiter ${delimiter}`);
  return `${variable}=$(cat <<'${delimiter}'\n${body}\n${delimiter}\n)`;
}

/** Everything a step needs to know, as shell variables; then the library; then one call. */
function render(entry: string, policy: FirewallPolicy, settings: ScriptSettings): string {
  return [
    "#!/bin/bash",
    `# openclaw hardening: ${entry}. Generated from the declared policy; see components/host/hardening.sh.`,
    `STATE='${settings.stateDir}'`,
    `ROLLBACK_AFTER=${settings.rollbackAfter}`,
    `OWNED_TAG='${UFW_COMMENT_PREFIX}'`,
    `WANT_IPV6=${policy.ipv6 ? "yes" : "no"}`,
    `WANT_DEFAULTS="deny (incoming), ${policy.outgoing.policy} (outgoing)"`,
    `WANT_OUTGOING=${policy.outgoing.policy}`,
    `WANT_LOGGING=${policy.logging}`,
    heredoc("DESIRED", "OPENCLAW_RULES", renderUfwRules(policy).join("\n")),
    heredoc("UFW_BATCH_PY", "OPENCLAW_PY", UFW_BATCH.trimEnd()),
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
export function renderConvergeScript(
  policy: FirewallPolicy,
  settings: ScriptSettings = HOST_DEFAULTS,
): string {
  return render("converge_main", policy, settings);
}

/**
 * Compares what the host enforces (UFW's files and the kernel's chains) with the policy. A
 * match confirms the pending change; any difference is printed, the change is rolled back
 * and the step fails.
 */
export function renderVerifyScript(policy: FirewallPolicy, settings: ScriptSettings = HOST_DEFAULTS): string {
  return render("verify_main", policy, settings);
}
