import type { FirewallPolicy } from "../policy/types";
import { UFW_COMMENT_PREFIX, renderUfwRules } from "../render/ufwRules";

/**
 * The command text of every hardening step. It is constant: the script and the policy travel
 * on stdin, so nothing declared ever appears in a command line, a process list or an error.
 */
export const REMOTE_SHELL =
  'if [ "$(id -u)" -eq 0 ]; then exec /bin/bash -s; else exec sudo -n /bin/bash -s; fi';

// Quoted heredoc delimiter: the shell expands nothing inside, and validated names cannot contain it.
const DELIMITER = "OPENCLAW_RULES";

/** Shell settings and helpers shared by the converge and verify scripts. */
function preamble(policy: FirewallPolicy): string {
  const rules = renderUfwRules(policy);
  return `set -euo pipefail
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { printf 'openclaw: %s\\n' "$*"; }
fail() { printf 'openclaw: FAILED: %s\\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root: give the SSH user passwordless sudo"

WANT_IPV6=${policy.ipv6 ? "yes" : "no"}
WANT_DEFAULTS="deny (incoming), ${policy.outgoing.policy} (outgoing)"
WANT_OUTGOING=${policy.outgoing.policy}
WANT_LOGGING=${policy.logging}
DESIRED=$(cat <<'${DELIMITER}'
${rules.join("\n")}
${DELIMITER}
)

# Our rules as UFW holds them: every rule we add carries a comment starting ${UFW_COMMENT_PREFIX}
owned() { ufw show added | grep -F " comment '${UFW_COMMENT_PREFIX}" || true; }
is_active() { ufw status | grep -qx 'Status: active'; }
current_defaults() { ufw status verbose | sed -n 's/^Default: \\(.*\\), [a-z]* (routed)$/\\1/p'; }
current_logging() {
    local line; line=$(ufw status verbose | sed -n 's/^Logging: //p')
    case "$line" in off) echo off ;; *"("*")") line=\${line##*(}; echo "\${line%)}" ;; *) echo "$line" ;; esac
}
# Runs one rule line ("ufw allow ... comment 'openclaw:x'") as ufw arguments, without eval.
ufw_rule() {
    local -a words; read -ra words <<<"$2"; words=("\${words[@]//\\'/}")
    if [ "$1" = delete ]; then ufw delete "\${words[@]:1}" >/dev/null; else ufw "\${words[@]:1}" >/dev/null; fi
}
`;
}

/**
 * Converges UFW to the policy. First run: defaults, SSH rules first, then services, logging,
 * one \`ufw --force enable\`. Later runs add what is missing, then delete what is no longer
 * declared, one rule at a time: never reload, reset, default or disable on a live firewall,
 * since each of those rebuilds every chain and leaves the host open meanwhile.
 */
export function renderConvergeScript(policy: FirewallPolicy): string {
  return `${preamble(policy)}
if ! command -v ufw >/dev/null 2>&1; then
    say "installing ufw"
    # Fresh images (Debian on Hetzner) ship without package lists.
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q ufw >/dev/null
fi

if is_active; then
    say "firewall is active: converging rule by rule"
    grep -qx "IPV6=$WANT_IPV6" /etc/default/ufw ||
        fail "IPV6 on the host differs from the policy (ipv6: $WANT_IPV6); changing it needs a reload that briefly opens the firewall, so apply it in a maintenance window with: sudo sed -i 's/^IPV6=.*/IPV6=$WANT_IPV6/' /etc/default/ufw && sudo ufw reload"
    [ "$(current_defaults)" = "$WANT_DEFAULTS" ] ||
        fail "default policies on the host are '$(current_defaults)', the policy wants '$WANT_DEFAULTS'; changing a default on a live firewall reloads it, so apply it in a maintenance window with: sudo ufw default $WANT_OUTGOING outgoing"
    FIRST_RUN=no
else
    say "firewall is inactive: setting IPV6=$WANT_IPV6 and defaults deny incoming, $WANT_OUTGOING outgoing"
    sed -i "s/^IPV6=.*/IPV6=$WANT_IPV6/" /etc/default/ufw
    ufw default deny incoming >/dev/null
    ufw default "$WANT_OUTGOING" outgoing >/dev/null
    FIRST_RUN=yes
fi

CURRENT=$(owned)
MISSING=$(grep -Fxv -f <(printf '%s\\n' "$CURRENT") <<<"$DESIRED" || true)
STALE=$(grep -Fxv -f <(printf '%s\\n' "$DESIRED") <<<"$CURRENT" || true)
added=0; removed=0
# Add before delete, so a port being moved is never closed to everyone in between.
while IFS= read -r line; do
    [ -n "$line" ] || continue
    say "adding: \${line#ufw }"; ufw_rule add "$line"; added=$((added + 1))
done <<<"$MISSING"
while IFS= read -r line; do
    [ -n "$line" ] || continue
    say "removing: \${line#ufw }"; ufw_rule delete "$line"; removed=$((removed + 1))
done <<<"$STALE"

if [ "$(current_logging)" != "$WANT_LOGGING" ]; then
    say "logging: $WANT_LOGGING"; ufw logging "$WANT_LOGGING" >/dev/null
fi
if [ "$FIRST_RUN" = yes ]; then
    say "enabling the firewall (SSH is already allowed)"
    ufw --force enable >/dev/null
fi
say "converged: $added added, $removed removed, $(printf '%s\\n' "$DESIRED" | grep -c .) rules declared"
`;
}

/**
 * Checks what the host enforces against the policy and prints the result. Any difference
 * fails the step and is printed. Run as its own SSH session after converging.
 */
export function renderVerifyScript(policy: FirewallPolicy): string {
  return `${preamble(policy)}
is_active || fail "the firewall is not active"
problems=()
[ "$(current_defaults)" = "$WANT_DEFAULTS" ] || problems+=("defaults are '$(current_defaults)', expected '$WANT_DEFAULTS'")
[ "$(current_logging)" = "$WANT_LOGGING" ] || problems+=("logging is '$(current_logging)', expected '$WANT_LOGGING'")
grep -qx "IPV6=$WANT_IPV6" /etc/default/ufw || problems+=("IPV6 is not $WANT_IPV6 in /etc/default/ufw")
DIFF=$(diff <(printf '%s\\n' "$DESIRED" | sort) <(owned | sort) || true)
[ -z "$DIFF" ] || problems+=("rules differ from the policy (< declared, > on the host):"$'\\n'"$DIFF")
if [ \${#problems[@]} -gt 0 ]; then
    printf 'openclaw: FAILED: %s\\n' "\${problems[@]}" >&2
    exit 1
fi
say "verified: $(printf '%s\\n' "$DESIRED" | grep -c .) declared rules in force"
ufw status verbose
`;
}
