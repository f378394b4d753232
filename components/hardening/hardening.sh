# The host side of the hardening: converge, verify-and-confirm, and rollback.
#
# components/hardening/script.ts renders each step as: a header that sets every global (STATE,
# DESIRED, WANT_*, ...; OPENCLAW_GLOBALS lists them), then this file, then one call
# (converge_main or verify_main). Everything here is a function and nothing here assigns a
# global, so a script cut short in transit runs nothing, and the rollback script the host
# writes for itself (arm_rollback) is complete.

say() { printf 'openclaw: %s\n' "$*"; }
fail() {
    printf 'openclaw: FAILED: %s\n' "$*" >&2
    exit 1
}

setup() {
    set -euo pipefail
    export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    umask 077
    # The SSH user's home is no place for root to work in: python3 -c imports from there.
    cd /
    [ "$(id -u)" -eq 0 ] || fail "must run as root: give the SSH user passwordless sudo"
}

# Why the state directory $1 is not root's alone; nothing when it is. The rollback script kept
# there runs as root, at boot and from a timer, and restores the snapshot kept beside it: a
# directory another user owns, or can write to, or one on the way to it, or anything in it that
# user owns or can write to, would let them run code as root. Group- or world-writable
# directories above it are admitted only with the sticky bit (/tmp's): there nobody can replace a
# root-owned entry. A symbolic link on the way is refused: whoever can write where it points could
# swap what lies behind it, and the path as written is what every step and the boot guard use.
state_dir_problem() {
    local state=$1 real dir uid mode entry
    real=$(realpath -m -- "$state")
    if [ "$real" != "$state" ]; then
        echo "$state leads through a symbolic link to $real: hardening.stateDir must be a path without symbolic links (did you mean $real?)"
        return 0
    fi
    dir=$state
    while :; do
        if [ -e "$dir" ]; then
            read -r uid mode <<<"$(stat -c '%u %a' "$dir")"
            if [ "$uid" -ne 0 ]; then
                echo "$dir belongs to uid $uid: hardening.stateDir ($state) and every directory above it must belong to root"
                return 0
            fi
            if (((8#$mode & 8#022) != 0)) && { [ "$dir" = "$state" ] || (((8#$mode & 8#1000) == 0)); }; then
                echo "$dir is writable by group or others (mode $mode): hardening.stateDir ($state) and every directory above it must be writable by root alone"
                return 0
            fi
        fi
        [ "$dir" != / ] || break
        dir=$(dirname "$dir")
    done
    [ -d "$state" ] || return 0
    entry=$(find "$state" -mindepth 1 \( ! -uid 0 -o -perm /022 -o ! \( -type f -o -type d \) \) -printf '%p (uid %U, mode %m)\n' -quit)
    [ -z "$entry" ] ||
        echo "$entry is not root's alone: everything in hardening.stateDir ($state) must be a file or directory that belongs to root and only root can write to"
}
check_state_dir() {
    local problem
    problem=$(state_dir_problem "$STATE")
    [ -z "$problem" ] || fail "$problem"
}

# One step at a time on a host: converge, verify and a firing rollback all take this lock.
lock() {
    check_state_dir
    mkdir -p -m 700 "$STATE"
    exec 9>"$STATE/lock"
    flock -w 300 9 || fail "another hardening step has held $STATE/lock for 5 minutes"
}

install_ufw() {
    command -v ufw >/dev/null 2>&1 && return 0
    say "installing ufw"
    # Fresh images (Debian on Hetzner) ship without package lists.
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q ufw >/dev/null
}

# --- Reading UFW's state -------------------------------------------------------------------

# Every rule UFW holds, as `ufw show added` lists them: read once per step and passed to owned
# and unmanaged_ufw, as each `ufw show added` is a Python start.
ufw_added() { ufw show added; }
# Our rules among them ($1: ufw_added): every rule we add carries a comment starting with $OWNED_TAG.
owned() { printf '%s\n' "$1" | grep -F " comment '$OWNED_TAG" || true; }
is_active() { grep -qx 'ENABLED=yes' /etc/ufw/ufw.conf && iptables -n -L ufw-user-input >/dev/null 2>&1; }
conf() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$2"; }
policy_word() { case $1 in ACCEPT) echo allow ;; DROP) echo deny ;; REJECT) echo reject ;; *) echo "$1" ;; esac; }
current_defaults() {
    echo "$(policy_word "$(conf DEFAULT_INPUT_POLICY /etc/default/ufw)") (incoming)," \
        "$(policy_word "$(conf DEFAULT_OUTPUT_POLICY /etc/default/ufw)") (outgoing)"
}
current_logging() { conf LOGLEVEL /etc/ufw/ufw.conf; }
count_lines() { printf '%s\n' "$1" | grep -c . || true; }
# $1: our rules as they are now (owned), read once per step: each `ufw show added` is a Python start.
rules_in_sync() { diff <(printf '%s\n' "$1" | grep . | sort) <(printf '%s\n' "$DESIRED" | grep . | sort) >/dev/null; }

# --- Changing rules --------------------------------------------------------------------------

# Plans bringing our rules from $1 (as they are now) to the list in $2: the ufw commands that add what is missing, then
# those that delete what is no longer listed, so a port being moved is never closed to everyone
# in between. Rules we do not own (fail2ban's, an operator's) are never touched. Sets ADDED,
# REMOVED and appends to the BATCH array.
plan_rules() {
    local current=$1 missing stale line
    missing=$(grep -Fxv -f <(printf '%s\n' "$current") <<<"$2" || true)
    stale=$(grep -Fxv -f <(printf '%s\n' "$2") <<<"$current" || true)
    ADDED=$(count_lines "$missing")
    REMOVED=$(count_lines "$stale")
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        say "adding: ${line#ufw }"
        BATCH+=("${line#ufw }")
    done <<<"$missing"
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        say "removing: ${line#ufw }"
        BATCH+=("delete ${line#ufw }")
    done <<<"$stale"
}

# Runs the ufw commands in BATCH in one ufw process (ufw_batch.py).
run_batch() {
    [ ${#BATCH[@]} -gt 0 ] || return 0
    printf '%s\n' "${BATCH[@]}" | "$(ufw_python)" -I -c "$UFW_BATCH_PY" "$(command -v ufw)"
}

# The interpreter ufw itself runs with, which is the one that can import its modules. Run with
# -I (isolated): nothing from the current directory, the environment or the user's site-packages.
ufw_python() { sed -n '1s/^#! *\([^ ]*\).*/\1/p' "$(command -v ufw)"; }

# --- Rules the policy does not declare -------------------------------------------------------

# Allow and limit rules (routed ones too) without our comment that differ from every declared
# rule: what UFW admits beyond the policy. One that differs from a declared rule only by its
# comment admits nothing more, and adding ours takes it over (ufw says "Rule updated"). Deny and
# reject rules, fail2ban's bans among them, are never listed. $1: ufw_added.
unmanaged_ufw() {
    printf '%s\n' "$1" | awk -v tag=" comment '$OWNED_TAG" -v desired="$DESIRED" '
        function bare(l) { sub(/ comment \047[^\047]*\047$/, "", l); return l }
        BEGIN { n = split(desired, d, "\n"); for (i = 1; i <= n; i++) declared[bare(d[i])] = 1 }
        /^ufw (route )?(allow|limit)( |$)/ && index($0, tag) == 0 && !(bare($0) in declared)'
}
# ACCEPT rules put straight into the kernel's INPUT and OUTPUT chains, around UFW: they admit
# traffic whatever UFW's rules say (UFW itself only puts jumps to its own chains there). Rules
# that accept only loopback or tracked replies admit nothing UFW does not; jumps to other
# chains (fail2ban's, Tailscale's) are not followed.
unmanaged_kernel() {
    local bin
    for bin in iptables ip6tables; do
        printf '%s\n' "${KERNEL[$bin]}" | grep -E -- '^-A (INPUT|OUTPUT) (.* )?-j ACCEPT( |$)' |
            grep -Ev -- '^-A (INPUT -i|OUTPUT -o) lo -j ACCEPT$|^-A [A-Z]+ -m (conntrack --ctstate|state --state) (RELATED,ESTABLISHED|ESTABLISHED,RELATED|ESTABLISHED) -j ACCEPT$' |
            sed "s/^/$bin /" || true
    done
}
# $1: ufw_added.
unmanaged() {
    unmanaged_ufw "$1"
    unmanaged_kernel
}
unmanaged_message() {
    printf '%s\n' "the host admits traffic the policy does not declare, through these rules:" \
        "$(printf '%s\n' "$1" | sed 's/^/  /')" \
        "Set hardening.unmanagedRules to remove (the harden step deletes them, under the rollback) or keep (they stay in force and verify lists them); with fail, the default, nothing is changed."
}
# Adds the deletions of the rules in $1 to BATCH (UFW's) and to kernel_removals (the kernel's,
# a local of converge_main), after everything plan_rules added: the declared rules are in force
# before any rule is removed.
plan_unmanaged_removal() {
    local line
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        say "removing a rule the policy does not declare (hardening.unmanagedRules: remove): $line"
        REMOVED=$((REMOVED + 1))
        case $line in
            "ufw route "*) BATCH+=("route delete ${line#ufw route }") ;;
            "ufw "*) BATCH+=("delete ${line#ufw }") ;;
            *) kernel_removals+=("$line") ;;
        esac
    done <<<"$1"
}
# Deletes the kernel rules planned above, noting each with its position so a rollback can put
# it back where it was.
remove_kernel_rules() {
    local line bin spec chain pos
    for line in "${kernel_removals[@]}"; do
        bin=${line%% *} spec=${line#* -A }
        chain=${spec%% *}
        pos=$("$bin" -S "$chain" | grep -v '^-[PN] ' | grep -nxF -- "-A $spec" | head -n1 | cut -d: -f1)
        [ -n "$pos" ] || continue
        printf '%s %s %s\n' "$bin" "$pos" "$spec" >>"$STATE/snapshot/kernel-removed"
        # xargs splits the rule as iptables -S quotes it ("a comment"), without a shell's eval.
        xargs "$bin" -D <<<"$spec"
    done
}
# Puts the kernel rules remove_kernel_rules deleted back in their places, last deleted first
# (called by rollback).
restore_kernel_rules() {
    local bin pos spec chain
    [ -f "$STATE/snapshot/kernel-removed" ] || return 0
    tac "$STATE/snapshot/kernel-removed" | while read -r bin pos spec; do
        chain=${spec%% *}
        xargs "$bin" -C <<<"$spec" 2>/dev/null || xargs "$bin" -I "$chain" "$pos" <<<"${spec#"$chain" }"
    done
}

# --- The kernel's rules ----------------------------------------------------------------------

# The kernel's filter table per family, as iptables-save prints it, read once per step into the
# caller's local KERNEL (an associative array) and shared by every check that reads the chains
# (unmanaged_kernel, own_drift, kernel_drift): each read is a process, and they read the same.
# A family whose tools are missing or that the kernel does not filter reads as empty.
read_kernel() {
    local bin
    for bin in iptables ip6tables; do KERNEL[$bin]=$("$bin-save" -t filter 2>/dev/null || true); done
}
# Whether family $1's chain $2 holds rule $3 (as iptables -S prints it), in KERNEL.
kernel_has() { [[ $'\n'"${KERNEL[$1]}"$'\n' == *$'\n'"-A $2 $3"$'\n'* ]]; }

# UFW's files are what `ufw status` and `ufw show added` report; the kernel is what filters.
# To compare them exactly, load a rules file into a throwaway network namespace and let the
# kernel print it in its own normal form next to the live chains.
chains_of() { sed -n 's/^:\(ufw6\{0,1\}-[a-z-]*\) .*/\1/p' "$1"; }
# The chains a rules file declares and their rules, in the kernel's own form. Rules keep their
# order within a chain; chains are sorted, as the two tables list them in different orders.
# $1: the rules file; stdin: the table, as iptables-save prints it.
dump_chains() {
    local names
    names=$(chains_of "$1" | paste -sd'|')
    sed -n -E "s/^:($names) .*/:\1/p; /^-A ($names) /p" | sort -s -k1,1 -k2,2
}
# Per family enforced: the iptables command and UFW's rules file.
rule_files() {
    echo "iptables /etc/ufw/user.rules"
    [ "$(conf IPV6 /etc/default/ufw)" != yes ] || echo "ip6tables /etc/ufw/user6.rules"
}
can_compare_kernel() { unshare --net true 2>/dev/null; }
# Prints each line where the live user chains (and our own chains) differ from what UFW's files
# (and the policy) say; nothing when they agree. One scratch namespace for both families:
# creating one costs more than everything else here.
kernel_drift() {
    local want have key cache
    # The expected form depends only on the files, the rules and the tools: cached by their hash,
    # so a run where nothing changed creates no namespace.
    key=$({ uname -r; iptables -V; rule_files | while read -r _ file; do cat "$file"; done; own_chains_dump declared; } |
        sha256sum | cut -c1-16)
    cache=$STATE/kernel-expected-$key
    if [ -f "$cache" ]; then
        want=$(cat "$cache")
    else
        want=$(unshare --net /bin/bash -c "$(declare -p WANT_DOCKER DOCKER_V4 DOCKER_V6 DOCKER_CHAIN SSH_REPLIES_CHAIN SSH_REPLIES_V4 SSH_REPLIES_V6)
            $(declare -f conf chains_of dump_chains rule_files families own_chains own_rules own_chains_dump)
            set -o pipefail
            rule_files | while read -r bin file; do
                \"\$bin-restore\" <\"\$file\" && \"\$bin-save\" -t filter | dump_chains \"\$file\" | sed \"s/^/\$bin /\"
            done
            own_chains_dump load")
        rm -f "$STATE"/kernel-expected-*
        printf '%s\n' "$want" >"$cache"
    fi
    have=$(rule_files | while read -r bin file; do printf '%s\n' "${KERNEL[$bin]}" | dump_chains "$file" | sed "s/^/$bin /"; done
        own_chains_dump)
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$have") |
        sed -n "s/^< /  missing from the kernel: /p; s/^> /  in the kernel, not declared: /p" || true
}
# Reloads only the user chains, from UFW's files, in one atomic iptables-restore per family:
# unlike `ufw reload`, there is no moment without rules.
reload_user_chains() {
    local bin file
    while read -r bin file; do "$bin-restore" --noflush <"$file"; done < <(rule_files)
}

# --- Chains of our own -------------------------------------------------------------------------

# Two chains of ours hang off others' chains:
# - openclaw-docker-user, off Docker's DOCKER-USER: Docker forwards a published port to its
#   container (DNAT, then FORWARD), and containers' own traffic goes out through FORWARD too, so
#   neither passes UFW's input or output rules; Docker sends forwarded traffic through
#   DOCKER-USER first and keeps what it finds there;
# - openclaw-ssh-replies, off UFW's after-output chain: sshd's packets out of a session
#   conntrack never saw, with outgoing traffic denied (UFW's own rules cannot match TCP flags).
# Each is kept in a marked block of UFW's after-rules files, which UFW loads at every start (at
# boot before Docker starts), and loaded live in one atomic step.
own_chains() { printf '%s\n' "$DOCKER_CHAIN" "$SSH_REPLIES_CHAIN"; }
# The declared rules of chain $1 for family $2 (iptables or ip6tables); none: not wanted.
own_rules() {
    case $1:$2 in
        "$DOCKER_CHAIN":iptables) [ "$WANT_DOCKER" = no ] || printf '%s\n' "$DOCKER_V4" ;;
        "$DOCKER_CHAIN":ip6tables) [ "$WANT_DOCKER" = no ] || printf '%s\n' "$DOCKER_V6" ;;
        "$SSH_REPLIES_CHAIN":iptables) printf '%s\n' "$SSH_REPLIES_V4" ;;
        "$SSH_REPLIES_CHAIN":ip6tables) printf '%s\n' "$SSH_REPLIES_V6" ;;
    esac
}
# The chain that jumps to chain $1 in family $2.
own_hook() {
    case $1:$2 in
        "$DOCKER_CHAIN":*) echo DOCKER-USER ;;
        *:iptables) echo ufw-after-output ;;
        *) echo ufw6-after-output ;;
    esac
}
# The name of chain $1's block in the after-rules files, and what it is for.
own_block() {
    case $1 in
        "$DOCKER_CHAIN") echo "docker: forwarded traffic follows the declared policy, ports Docker publishes and containers' own connections" ;;
        *) echo "ssh-replies: sshd's packets out of an untracked session leave, with outgoing traffic denied" ;;
    esac
}
after_file() { if [ "$1" = iptables ]; then echo /etc/ufw/after.rules; else echo /etc/ufw/after6.rules; fi; }
# The families our chains are kept for: IPv6 too wherever the kernel filters it, IPV6=no included
# (Docker may forward IPv6 there all the same).
families() { echo iptables; ! ip6tables -n -L FORWARD >/dev/null 2>&1 || echo ip6tables; }
# The rules our block for chain $2 in after-rules file $1 holds.
block_rules() {
    local name
    name=$(own_block "$2")
    name=${name%%:*}
    sed -n "/^# BEGIN openclaw $name/,/^# END openclaw $name\$/p" "$1" | grep "^-A $2 " || true
}
# Replaces our block for chain $2 in after-rules file $1 (family $3) with one holding the rules
# in $4 (none: removed). The block for Docker's chain declares DOCKER-USER, so that it loads
# before Docker exists; like any reload of the file, loading it empties DOCKER-USER first.
persist_block() {
    local file=$1 chain=$2 bin=$3 rules=$4 name hook tmp
    name=$(own_block "$chain")
    hook=$(own_hook "$chain" "$bin")
    tmp=$(mktemp)
    sed "/^# BEGIN openclaw ${name%%:*}/,/^# END openclaw ${name%%:*}\$/d" "$file" >"$tmp"
    if [ -n "$rules" ]; then
        { printf '%s\n' "# BEGIN openclaw $name (managed by the openclaw hardening)" '*filter'
            [ "$hook" != DOCKER-USER ] || echo ':DOCKER-USER - [0:0]'
            printf '%s\n' ":$chain - [0:0]" "-A $hook -j $chain" "$rules" COMMIT "# END openclaw ${name%%:*}"; } >>"$tmp"
    fi
    cat "$tmp" >"$file"
    rm -f "$tmp"
}
# Fills chain $2 of family $1 with the rules in $3 in one atomic step and makes its hook jump to
# it; the rest of the hook chain (Docker's, the operator's, UFW's) is left as it is. No rules:
# the chain and the jump are removed. Without UFW's chains (UFW never ran) UFW loads the block
# as it starts.
load_own_chain() {
    local bin=$1 chain=$2 rules=$3 hook
    hook=$(own_hook "$chain" "$bin")
    if [ -z "$rules" ]; then
        while "$bin" -D "$hook" -j "$chain" 2>/dev/null; do :; done
        ! "$bin" -n -L "$chain" >/dev/null 2>&1 || { "$bin" -F "$chain" && "$bin" -X "$chain"; }
        return 0
    fi
    if [ "$hook" = DOCKER-USER ]; then
        "$bin" -n -L DOCKER-USER >/dev/null 2>&1 || "$bin" -N DOCKER-USER
    elif ! "$bin" -n -L "$hook" >/dev/null 2>&1; then
        return 0
    fi
    printf '*filter\n:%s - [0:0]\n%s\nCOMMIT\n' "$chain" "$rules" | "$bin-restore" --noflush
    "$bin" -C "$hook" -j "$chain" 2>/dev/null || "$bin" -I "$hook" 1 -j "$chain"
}
# Puts chain $1's declared rules in its block of each after-rules file, for boot, and in force.
own_apply() {
    local chain=$1 bin rules
    for bin in $(families); do
        rules=$(own_rules "$chain" "$bin")
        persist_block "$(after_file "$bin")" "$chain" "$bin" "$rules"
        load_own_chain "$bin" "$chain" "$rules"
    done
    [ "$chain" != "$DOCKER_CHAIN" ] || set_hook_line /etc/ufw/after.init "$(docker6_start_line)" "openclaw docker ipv6"
}
# Loads our chains as the after-rules files hold them (the rollback, once it put the files back).
own_reload() {
    local bin chain
    for bin in $(families); do
        for chain in $(own_chains); do load_own_chain "$bin" "$chain" "$(block_rules "$(after_file "$bin")" "$chain")"; done
    done
}
# Our chains as the kernel holds them (KERNEL), per family, as iptables -S prints them; with
# "load" (in a scratch namespace) each declared one is loaded first and read from the kernel
# there; with "declared", the declared rules instead.
own_chains_dump() {
    local bin chain rules
    for bin in $(families); do
        if [ -z "${1:-}" ]; then
            # One pass per family: each chain's declaration (-N) and its rules, in own_chains' order.
            printf '%s\n' "${KERNEL[$bin]}" | awk -v bin="$bin" -v chains="$(own_chains)" '
                BEGIN { n = split(chains, c, "\n"); for (i = 1; i <= n; i++) want[c[i]] = i }
                /^:/ && $2 == "-" && substr($1, 2) in want { declared[want[substr($1, 2)]] = bin " -N " substr($1, 2) "\n" }
                $1 == "-A" && $2 in want { rules[want[$2]] = rules[want[$2]] bin " " $0 "\n" }
                END { for (i = 1; i <= n; i++) printf "%s%s", declared[i], rules[i] }'
            continue
        fi
        for chain in $(own_chains); do
            rules=$(own_rules "$chain" "$bin")
            case $1 in
                declared)
                    printf '%s %s\n%s\n' "$bin" "$chain" "$rules"
                    continue
                    ;;
                load) [ -z "$rules" ] || printf '*filter\n:%s - [0:0]\n%s\nCOMMIT\n' "$chain" "$rules" | "$bin-restore" --noflush ;;
            esac
            "$bin" -S "$chain" 2>/dev/null | sed "s/^/$bin /" || true
        done
    done
}
# With IPV6=no, UFW loads no IPv6 rules file as it starts (it empties every IPv6 chain instead),
# yet Docker may forward IPv6 all the same: this line in UFW's after.init hook loads our IPv6
# Docker block at every start. None where UFW loads after6.rules itself.
docker6_start_line() {
    [ "$WANT_DOCKER" = yes ] && [ "$WANT_IPV6" = no ] || return 0
    echo "[ \"\$1\" != start ] || sed -n '/^# BEGIN openclaw docker/,/^# END openclaw docker\$/p' /etc/ufw/after6.rules | ip6tables-restore --noflush # openclaw docker ipv6"
}
# The line tagged "# $2" in UFW's hook $1, if any.
hook_line() { grep -e "# $2\$" "$1" 2>/dev/null || true; }
# Makes $2 (ending in "# $3"; empty: none) the one line tagged $3 in UFW's hook $1, right after
# its first line: ahead of the hook's own code, which after.init runs under set -e.
set_hook_line() {
    local file=$1 line=$2 tag=$3 tmp
    if [ "$(hook_line "$file" "$tag")" != "$line" ]; then
        tmp=$(mktemp)
        { if [ -s "$file" ]; then sed -n 1p "$file"; else echo '#!/bin/sh'; fi
            [ -z "$line" ] || printf '%s\n' "$line"
            [ ! -s "$file" ] || sed "1d; \\|# $tag\$|d" "$file"; } >"$tmp"
        cat "$tmp" >"$file"
        rm -f "$tmp"
    fi
    # UFW runs its hooks only when they are executable.
    [ ! -f "$file" ] || chmod u+x "$file"
}
# What differs outside our chains' rules (kernel_drift compares those): the boot copies, the jumps.
own_drift() {
    local bin chain rules after hook
    for bin in $(families); do
        after=$(after_file "$bin")
        for chain in $(own_chains); do
            rules=$(own_rules "$chain" "$bin")
            hook=$(own_hook "$chain" "$bin")
            [ "$(block_rules "$after" "$chain")" = "$rules" ] ||
                echo "  $after does not hold the declared $chain rules, so they would not survive a reboot"
            [ -z "$rules" ] || kernel_has "$bin" "$hook" "-j $chain" ||
                echo "  $bin: $hook does not jump to $chain"
        done
    done
    [ "$(hook_line /etc/ufw/after.init "openclaw docker ipv6")" = "$(docker6_start_line)" ] ||
        echo "  /etc/ufw/after.init does not load the IPv6 Docker rules as UFW starts (IPV6=no), so they would not survive a reboot"
}
# Whether Docker's daemon listens on its socket: `docker info` asks it there, and without it
# the client only spends a start-up and a failed dial finding out.
docker_running() { [ -S /run/docker.sock ] || [ -S /var/run/docker.sock ]; }
# Docker's nftables backend has no DOCKER-USER chain: rules here would not see its traffic.
docker_backend_problem() {
    local backend=""
    command -v docker >/dev/null 2>&1 || [ -f /etc/docker/daemon.json ] || return 0
    ! docker_running || backend=$(docker info --format '{{.FirewallBackend.Driver}}' 2>/dev/null || true)
    [ -n "$backend" ] || backend=$(sed -n 's/.*"firewall-backend"[[:space:]]*:[[:space:]]*"\([a-z]*\)".*/\1/p' /etc/docker/daemon.json 2>/dev/null || true)
    case $backend in
        nftables*) echo "Docker uses its nftables firewall backend, which has no DOCKER-USER chain, so the ports it publishes would bypass the policy. Switch Docker to the iptables backend (\"firewall-backend\": \"iptables\" in /etc/docker/daemon.json, then restart Docker), or set hardening.docker to false and restrict published ports yourself." ;;
    esac
}

# --- sshd ----------------------------------------------------------------------------------------

sshd_reads_dropins() { grep -Eqi '^[[:space:]]*Include[[:space:]]+(/etc/ssh/)?sshd_config\.d/\*\.conf' "$SSHD_MAIN"; }
# Our settings as they are on disk: the drop-in, or the block at the top of sshd_config where
# the distribution reads no drop-ins (sshd takes the first value it reads).
sshd_current() {
    if sshd_reads_dropins; then
        cat "$SSHD_DROPIN" 2>/dev/null || true
    else
        sed -n '/^# BEGIN openclaw sshd$/,/^# END openclaw sshd$/{//!p}' "$SSHD_MAIN"
    fi
}
sshd_in_sync() { [ "$WANT_SSHD" = no ] || [ "$(sshd_current)" = "$SSHD_CONFIG" ]; }
# Writes our settings and checks the whole configuration with `sshd -t`. A configuration sshd
# rejects is taken back at once: sshd is never reloaded with it, so it never takes effect.
sshd_install() {
    local out tmp
    if sshd_reads_dropins; then
        mkdir -p "$(dirname "$SSHD_DROPIN")"
        printf '%s\n' "$SSHD_CONFIG" >"$SSHD_DROPIN"
        chmod 644 "$SSHD_DROPIN"
    else
        tmp=$(mktemp)
        { echo '# BEGIN openclaw sshd'; printf '%s\n' "$SSHD_CONFIG"; echo '# END openclaw sshd'
            sed '/^# BEGIN openclaw sshd$/,/^# END openclaw sshd$/d' "$SSHD_MAIN"; } >"$tmp"
        cat "$tmp" >"$SSHD_MAIN"
        rm -f "$tmp"
    fi
    if ! out=$(sshd -t 2>&1); then
        sshd_restore
        fail "sshd rejects the new settings, so they were taken back and sshd was not reloaded (check hardening.sshd.settings): $out"
    fi
}
# The nearest process up the tree that holds SSH_CONNECTION (sudo does not pass it on): the
# session's own shell, started when the connection was made.
session_process() {
    local pid=$$ stat
    while [ "${pid:-0}" -gt 1 ]; do
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^SSH_CONNECTION=.'; then
            echo "$pid"
            return 0
        fi
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
        # shellcheck disable=SC2086 # the fields after the command name
        set -- ${stat##*) }
        pid=$2
    done
}
# The deployer's connection as sshd saw it (SSH_CONNECTION: client address and port, server
# address and port), from the nearest process that has it: sudo does not pass it on.
ssh_connection() {
    local pid
    pid=$(session_process)
    [ -z "$pid" ] || tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p' | head -n 1
}
# What sshd applies to a login as each of the deployer's user and root over the deployer's
# connection, Match blocks included (plain `sshd -T` skips them), where it differs from ours:
# one line per login that gets passwords, keyboard-interactive or root by password back.
sshd_login_drift() {
    local addr laddr lport spec user out wrong
    read -r addr _ laddr lport <<<"$(ssh_connection)" || true
    user=${SUDO_USER:-$(id -un)}
    [[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || user=root
    for user in $(printf '%s\n' "$user" root | awk '!seen[$0]++'); do
        spec="user=$user"
        if [[ "$addr" =~ ^[0-9A-Fa-f.:]+$ && "$laddr" =~ ^[0-9A-Fa-f.:]+$ && "$lport" =~ ^[0-9]+$ ]]; then
            spec+=",host=$addr,addr=$addr,laddr=$laddr,lport=$lport"
        fi
        if ! out=$(sshd -T -C "$spec" 2>&1); then
            echo "sshd -T -C $spec failed: $out"
            continue
        fi
        # Older sshd prints challengeresponseauthentication on a line of its own.
        wrong=$(printf '%s\n' "$out" | grep -E '^(passwordauthentication|kbdinteractiveauthentication|challengeresponseauthentication|permitrootlogin) ' |
            grep -Evx '(passwordauthentication|kbdinteractiveauthentication|challengeresponseauthentication) no|permitrootlogin (prohibit-password|without-password)' |
            paste -sd, - | sed 's/,/, /g' || true)
        [ "$(printf '%s\n' "$out" | grep -Ecx 'passwordauthentication no|kbdinteractiveauthentication no|permitrootlogin (prohibit-password|without-password)')" -eq 3 ] ||
            wrong=${wrong:-"no setting for password logins, keyboard-interactive or root"}
        [ -z "$wrong" ] || echo "sshd -T -C $spec shows $wrong, not password logins off and root by key only: a Match block or another file in sshd's configuration overrides the hardening for this login; remove it"
        wrong=$(sshd_settings_drift "$out")
        [ -z "$wrong" ] || echo "sshd -T -C $spec shows $wrong, not hardening.sshdSettings: a Match block or another file in sshd's configuration overrides them for this login; remove it"
    done
}
# The declared extra settings that sshd's answer $1 (sshd -T) does not apply as declared, one
# "have (declared: want)" per keyword: each keyword's lines must be exactly the declared ones
# (AllowUsers and the like print one line per pattern, and add up over every file).
sshd_settings_drift() {
    local keyword have want
    for keyword in $(printf '%s\n' "$SSHD_EFFECTIVE" | awk 'NF { print $1 }' | sort -u); do
        have=$(printf '%s\n' "$1" | grep "^$keyword " | sort | paste -sd, - | sed 's/,/, /g' || true)
        want=$(printf '%s\n' "$SSHD_EFFECTIVE" | grep "^$keyword " | sort | paste -sd, - | sed 's/,/, /g')
        [ "$have" = "$want" ] || echo "${have:-no $keyword} (declared: $want)"
    done | paste -sd';' - | sed 's/;/; /g'
}
# Puts back the sshd files saved by snapshot.
sshd_restore() {
    local snap=$STATE/snapshot
    cat "$snap/sshd_config" >"$SSHD_MAIN"
    if [ -f "$snap/sshd-dropin" ]; then cp -p "$snap/sshd-dropin" "$SSHD_DROPIN"; else rm -f "$SSHD_DROPIN"; fi
}
# A reload keeps every open session; only new connections see the new settings.
sshd_reload() {
    local unit pid
    if [ -d /run/systemd/system ]; then
        for unit in ssh.service sshd.service; do
            if systemctl is-active --quiet "$unit" 2>/dev/null; then
                systemctl reload "$unit"
                return 0
            fi
        done
    fi
    pid=$(cat "$(sshd -T 2>/dev/null | awk '$1 == "pidfile" { print $2 }')" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -HUP "$pid"
    else
        say "sshd is not running as a daemon here: its new settings apply when it starts"
    fi
}

# --- Rollback ----------------------------------------------------------------------------------

pending_field() { sed -n "s/^$1=//p" "$STATE/pending"; }

# Saves what a change can alter: whether UFW is active; UFW's files, which hold the rules, the
# logging level, the defaults, IPV6 and the Docker rules; and sshd's configuration.
snapshot() {
    local snap=$STATE/snapshot
    rm -rf "$snap"
    mkdir -p "$snap"
    if is_active; then echo yes; else echo no; fi >"$snap/active"
    cp -p /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/after.rules /etc/ufw/after6.rules /etc/ufw/ufw.conf "$snap/"
    cp -p /etc/default/ufw "$snap/default-ufw"
    if [ "$WANT_SSHD" = yes ]; then
        cp -p "$SSHD_MAIN" "$snap/sshd_config"
        [ ! -f "$SSHD_DROPIN" ] || cp -p "$SSHD_DROPIN" "$snap/sshd-dropin"
    fi
}

# A running process's start time (field 22 of /proc/PID/stat, after the command name, which may
# hold spaces): with the pid, it names one process for good, so a pid reused after a reboot
# differs. Nothing for a process that has exited (a zombie no one reaped).
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    # shellcheck disable=SC2086 # the fields after the command name
    set -- ${stat##*) }
    case $1 in Z | X | x) return 0 ;; esac
    echo "${20}"
}

# Starts a timer that runs rollback.sh for change $2 after $1 seconds and prints how to find it
# again: "systemd UNIT -" (a systemd-run timer, which outlives the SSH session and shows in
# `systemctl list-timers`) or "detached PID STARTTIME" (a sleeper in its own session).
start_timer() {
    local after=$1 id=$2 unit=$3
    if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
        systemd-run --quiet --unit "$unit" --on-active="${after}s" \
            --timer-property=AccuracySec=1s "$(runner_file)" "$STATE" timer "$id"
        echo "systemd $unit -"
    else
        # Its own session, so the SSH session ending does not take it along; fd 9 closed so it
        # does not hold the lock while it sleeps.
        setsid /bin/bash -c 'sleep "$1" && exec "$2" "$3" timer "$4"' _ "$after" \
            "$(runner_file)" "$STATE" "$id" </dev/null >/dev/null 2>&1 9>&- &
        echo "detached $! $(start_time $!)"
    fi
}
# Whether the timer saved as $1 (how) $2 (handle) $3 (start time) still runs. A detached pid
# counts only while its start time matches: after a reboot the pid may be another process's.
timer_alive() {
    case $1 in
        systemd) systemctl is-active --quiet "$2.timer" 2>/dev/null || systemctl is-active --quiet "$2.service" 2>/dev/null ;;
        detached) [ -n "$3" ] && [ "$(start_time "$2")" = "$3" ] ;;
        *) return 1 ;;
    esac
}
# Stops that timer; a process it did not start is never signalled.
stop_timer() {
    case $1 in
        systemd) systemctl stop "$2.timer" "$2.service" 2>/dev/null || true ;;
        detached) if timer_alive "$@"; then kill -TERM -- "-$2" 2>/dev/null || true; fi ;;
    esac
}
write_pending() { printf 'id=%s\nhow=%s\nhandle=%s\nstarted=%s\ninforce=%s\n' "$@" >"$STATE/pending"; }

# --- Running the rollback as root --------------------------------------------------------------

# The boot guard's unit, UFW's start hooks and the timers run the rollback through this file,
# kept beside the hooks, never from the state directory itself.
runner_file() { echo /etc/ufw/openclaw-rollback; }
# The runner: $1 is the state directory, the rest are rollback.sh's arguments. Checked as root at
# the moment it would run it, a rollback.sh in a directory that is not root's alone (another user
# could have written it, or the snapshot it restores) is not run: the runner says why, in the
# journal and on stderr, and fails. At boot UFW then loads the rules in its files, the change's.
runner_main() {
    local state=$1 problem
    shift
    setup
    problem=$(state_dir_problem "$state")
    if [ -n "$problem" ]; then
        logger -t openclaw -p user.err "refusing to run $state/rollback.sh as root: $problem" 2>/dev/null || true
        fail "refusing to run $state/rollback.sh as root: $problem"
    fi
    exec /bin/bash "$state/rollback.sh" "$@"
}
# The runner's file: the functions it calls and one call. Nothing in it depends on a change.
runner_script() {
    echo '#!/bin/bash'
    echo "# Written by the openclaw hardening: runs the rollback kept in a state directory (\$1), only while that directory is root's alone."
    declare -f fail setup state_dir_problem runner_main
    echo 'runner_main "$@"'
}

# The boot guard. A reboot kills the timer, and UFW would then load the unconfirmed rules at
# boot with nothing left to roll them back. UFW's own start runs /etc/ufw/before.init before it
# reads the rule files (every host with UFW, with or without systemd); where systemd runs, a unit
# ordered before ufw.service restores the files before UFW even reads its settings.
# $1: the hook; its line runs the rollback only while a change is pending.
guard_hook() {
    case $1 in
        before.init) echo "[ \"\$1\" != start ] || [ ! -f '$STATE/pending' ] || $(runner_file) '$STATE' ufw-start # openclaw boot guard" ;;
        # A host where UFW was off before the change: UFW has read its settings before
        # before.init restores them, so it is stopped again once it has started.
        after.init) echo "[ \"\$1\" != start ] || [ ! -f '$STATE/stop-ufw' ] || $(runner_file) '$STATE' ufw-started # openclaw boot guard" ;;
    esac
}
guard_unit() {
    printf '%s\n' '[Unit]' \
        'Description=openclaw: restore the firewall from before a change that was never confirmed' \
        "Documentation=file://$STATE/rollback.sh" \
        'DefaultDependencies=no' 'After=local-fs.target' 'Before=ufw.service network-pre.target' \
        "ConditionPathExists=$STATE/pending" \
        '' '[Service]' 'Type=oneshot' "ExecStart=$(runner_file) $STATE boot" \
        '' '[Install]' 'WantedBy=ufw.service'
}
guard_unit_file() { echo /etc/systemd/system/openclaw-boot-guard.service; }
install_boot_guard() {
    local hook tmp
    if [ "$(cat "$(runner_file)" 2>/dev/null)" != "$(runner_script)" ]; then
        tmp=$(mktemp "$(runner_file).XXXXXX")
        runner_script >"$tmp"
        chmod 755 "$tmp"
        mv -f "$tmp" "$(runner_file)"
    fi
    for hook in before.init after.init; do
        set_hook_line "/etc/ufw/$hook" "$(guard_hook "$hook")" "openclaw boot guard"
    done
    if [ -d /run/systemd/system ] && [ "$(cat "$(guard_unit_file)" 2>/dev/null)" != "$(guard_unit)" ]; then
        guard_unit >"$(guard_unit_file)"
        chmod 644 "$(guard_unit_file)"
        systemctl daemon-reload
        systemctl enable --quiet openclaw-boot-guard.service
    fi
}

# Arms the rollback before the first change: writes rollback.sh, installs the boot guard, and
# starts a guard timer as long as the step may take (a change that hangs half-way is rolled back
# too). The clock the user configures starts only when the change is in force (start_window).
arm_rollback() {
    local id=$1 timer
    {
        echo '#!/bin/bash'
        echo "# Written by the openclaw hardening; restores the rules from before change $id."
        # shellcheck disable=SC2086 # a list of names
        declare -p OPENCLAW_GLOBALS $OPENCLAW_GLOBALS
        declare -f
        echo 'rollback_main "$@"'
    } >"$STATE/rollback.sh"
    install_boot_guard
    timer=$(start_timer "$STEP_TIMEOUT" "$id" "openclaw-rollback-$id-applying")
    # shellcheck disable=SC2086 # three words
    write_pending "$id" $timer -
    echo "$id" >"$STATE/change"
    say "saved the current rules; until a new SSH connection confirms change $id, the host restores them if this step stops half-way or the host restarts"
}

# The change is in force: from now on a new SSH connection has ROLLBACK_AFTER seconds to confirm
# it. The new timer starts before the guard timer stops, so the change is never without one.
start_window() {
    local id old new
    id=$(pending_field id)
    old="$(pending_field how) $(pending_field handle) $(pending_field started)"
    new=$(start_timer "$ROLLBACK_AFTER" "$id" "openclaw-rollback-$id")
    # shellcheck disable=SC2086 # three words each
    write_pending "$id" $new "$(ticks_now)"
    # shellcheck disable=SC2086
    stop_timer $old
    say "change $id is in force; unless a new SSH connection confirms it within ${ROLLBACK_AFTER}s, the host restores the rules from before it (${new%% *} timer)"
}

disarm() { stop_timer "$(pending_field how)" "$(pending_field handle)" "$(pending_field started)"; }

# A step restores the old rules at once when it cannot finish the change: $1 says why. Its SSH
# session may be gone (the reason, often), and a write to it would raise SIGPIPE in the middle of
# the restore: from here on the session's signals are ignored, the rollback writes to its log,
# and only then are its lines copied to stderr, for a session still there to read.
restore_now() {
    local log=$STATE/rollback.log from
    trap '' HUP INT PIPE TERM
    trap - EXIT
    from=$(($(stat -c %s "$log" 2>/dev/null || echo 0) + 1))
    rollback "$1" >>"$log" 2>&1
    tail -c "+$from" "$log" >&2 2>/dev/null || true
}
# From arming on, an error (the EXIT trap) or the end of the session (SIGPIPE at the next write,
# SIGHUP) or a kill (SIGTERM, SIGINT) restores at once, not when the timer fires.
restore_on_interruption() {
    local signal
    trap 'status=$?; [ "$status" -eq 0 ] || restore_now "the converge step failed (exit $status)"' EXIT
    for signal in HUP INT PIPE TERM; do
        # shellcheck disable=SC2064 # the signal's name, now
        trap "restore_now 'the converge step got SIG$signal (its SSH session ended, or it was stopped)'; exit 1" "$signal"
    done
}

# Restores the snapshot taken before the pending change. $1 says why; $2 says who runs it:
# "timer" (it must not stop itself), "boot" (the systemd unit, before UFW starts) or "ufw-start"
# (UFW's start hook): at boot only the files are put back, for UFW and sshd to load as they start.
# Caller holds the lock.
rollback() {
    local snap=$STATE/snapshot id mode=${2:-} was
    [ -f "$STATE/pending" ] || return 0
    id=$(pending_field id)
    was=$(cat "$snap/active")
    say "rolling back change $id: $1"
    # What a step found in agreement with the policy is no longer what is in force.
    rm -rf "$STATE/checked"
    case $mode in
        boot | ufw-start) ;;
        *)
            if [ "$was" = no ]; then
                # UFW was off before the change: turning it off again is the previous state.
                ! is_active || ufw --force disable >/dev/null
            fi
            ;;
    esac
    cp -p "$snap/user.rules" "$snap/user6.rules" "$snap/after.rules" "$snap/after6.rules" "$snap/ufw.conf" /etc/ufw/
    cp -p "$snap/default-ufw" /etc/default/ufw
    case $mode in
        boot) ;;
        ufw-start) [ "$was" = yes ] || touch "$STATE/stop-ufw" ;;
        *)
            if [ "$was" = yes ]; then
                # Exactly the saved rules, in their order, loaded in one atomic step per family. A
                # rule someone else added within the window (a fail2ban ban) goes with the change.
                reload_user_chains
            fi
            own_reload
            restore_kernel_rules
            ;;
    esac
    if [ -f "$snap/sshd-changed" ]; then
        sshd_restore
        case $mode in boot | ufw-start) ;; *) sshd_reload ;; esac
    fi
    # Only now that the old rules are back: a rollback cut short leaves the timer to finish it.
    [ -n "$mode" ] || disarm
    printf 'id=%s\ntime=%s\nreason=%s\n' "$id" "$(date -u +%FT%TZ)" "$1" >"$STATE/rolled-back"
    rm -f "$STATE/pending"
    logger -t openclaw "rolled back change $id: $1" 2>/dev/null || true
    say "rolled back change $id: the rules from before it are in force"
}

# rollback.sh, run by the runner: $1 is timer (with the change $2 it was started for), boot,
# ufw-start or ufw-started (UFW's after.init).
rollback_main() {
    local mode=${1:-} reason
    setup
    case $mode in
        timer) reason="no new SSH connection confirmed it within ${ROLLBACK_AFTER}s of it being in force" ;;
        boot | ufw-start)
            reason="the host restarted before it was confirmed"
            [ -f "$STATE/pending" ] || return 0
            # UFW also starts when a step enables it; the change's timer then still runs.
            ! timer_alive "$(pending_field how)" "$(pending_field handle)" "$(pending_field started)" || return 0
            ;;
        ufw-started)
            # UFW was off before the change the boot rolled back: off again, now it has started.
            [ -f "$STATE/stop-ufw" ] || return 0
            rm -f "$STATE/stop-ufw"
            /lib/ufw/ufw-init force-stop
            return 0
            ;;
        *) fail "rollback.sh takes timer, boot, ufw-start or ufw-started" ;;
    esac
    lock
    # A timer left from a change already confirmed or replaced has nothing to do.
    [ "$mode" != timer ] || [ ! -f "$STATE/pending" ] || [ "$(pending_field id)" = "${2:-}" ] || return 0
    rollback "$reason" "$mode" >>"$STATE/rollback.log" 2>&1
}

# The address this SSH session comes from and the port it reached.
session_address() {
    local addr lport
    read -r addr _ _ lport <<<"$(ssh_connection)" || true
    [ -z "$addr" ] || echo "$addr $lport"
}
# Now, in clock ticks since boot: the clock a process's start time is counted in.
ticks_now() {
    local up
    read -r up _ </proc/uptime
    echo $((${up%.*} * $(getconf CLK_TCK) + 10#${up#*.} * $(getconf CLK_TCK) / 100))
}
# Whether this session's connection was made after the pending change was in force.
session_after_change() {
    local pid inforce
    inforce=$(pending_field inforce)
    pid=$(session_process)
    # Not an SSH session (the console), or a change never put in force: nothing to compare.
    [ -n "$pid" ] && [ "$inforce" != - ] || return 0
    [ "$(start_time "$pid")" -ge "$inforce" ]
}
# Whether the declared incoming rules admit address $1 to TCP port $2.
policy_admits() {
    printf '%s\n' "$DESIRED" | "$(ufw_python)" -I -c '
import ipaddress, re, sys
addr, port = ipaddress.ip_address(sys.argv[1]), int(sys.argv[2])
rule = re.compile(r"ufw (?:allow|limit) (?:from (\S+) to any port (\d+)(?::(\d+))? proto (\w+)|(\d+)(?::(\d+))?/(\w+)) ")
for line in sys.stdin:
    m = rule.match(line)
    if not m:
        continue
    peer, low, high, proto = (m[1], m[2], m[3], m[4]) if m[1] else ("any", m[5], m[6], m[7])
    if proto != "tcp" or not int(low) <= port <= int(high or low):
        continue
    if peer == "any" or addr in ipaddress.ip_network(peer, strict=False):
        sys.exit(0)
sys.exit(1)' "$1" "$2"
}
# What the last rollback record says, in a sentence.
rollback_story() {
    echo "the host rolled back change $(sed -n 's/^id=//p' "$STATE/rolled-back") at $(sed -n 's/^time=//p' "$STATE/rolled-back") ($(sed -n 's/^reason=//p' "$STATE/rolled-back")); the rules from before it are in force"
}
# The last change made on this host was rolled back, and nothing newer is pending.
last_change_rolled_back() {
    local change
    change=$(cat "$STATE/change" 2>/dev/null || true)
    [ ! -f "$STATE/pending" ] && [ -n "$change" ] && [ -f "$STATE/rolled-back" ] &&
        [ "$(sed -n 's/^id=//p' "$STATE/rolled-back")" = "$change" ]
}
# Fails when applying the policy again would shut out the address this session comes from.
# Otherwise the cause of the rollback lay elsewhere (an interrupted run, a late or failed verify).
check_not_locked_out() {
    local session
    session=$(session_address)
    [ -n "$session" ] || return 0
    # shellcheck disable=SC2086 # the address and the port
    policy_admits $session ||
        fail "$(rollback_story). The policy does not admit ${session% *}, the address this SSH connection comes from, to port ${session#* }: if you deploy from there, add it to firewall.ssh.adminCidrs and run pulumi up again."
}

# --- What the last check found ------------------------------------------------------------------

# Everything verify's checks read but sshd's answers (sshd_login_drift runs every time): the
# policy and settings (the globals), UFW's files, start hooks and command, the kernel's filter
# tables as KERNEL holds them (without counters, or iptables-save's dated comments), the kernel's
# and iptables' versions. Where it equals the one recorded when a step last found all of it in
# agreement with the policy, under the lock, the same checks would find the same again.
state_fingerprint() {
    # shellcheck disable=SC2086 # a list of names
    { declare -p $OPENCLAW_GLOBALS
        uname -r
        iptables -V
        # Each file's own hash beside its name: the files joined end to end would hash the same
        # when a line moved from the end of one to the start of the next.
        sha256sum /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/after.rules \
            /etc/ufw/after6.rules /etc/ufw/after.init "$(command -v ufw)" 2>&1 || true
        printf '%s\n' "${KERNEL[iptables]}" "${KERNEL[ip6tables]}" | sed -E '/^#/d; s/ \[[0-9]+:[0-9]+\]$//'
    } | sha256sum | cut -d' ' -f1
}
# Records that the state fingerprinted $1 agrees with the policy; $2: the rules kept beyond it
# (hardening.unmanagedRules: keep); $3, if given: `ufw status verbose` for it. The fingerprint is
# written last: without it nothing else here is read.
record_checked() {
    local dir=$STATE/checked
    rm -rf "$dir"
    # The checks read the files after $1 was taken: a file changed meanwhile may not be what they
    # saw, so nothing is vouched for and the next step checks again.
    [ "$(state_fingerprint)" = "$1" ] || return 0
    mkdir -p "$dir"
    printf '%s\n' "$2" >"$dir/extra"
    [ $# -lt 3 ] || printf '%s' "$3" >"$dir/status"
    printf '%s\n' "$1" >"$dir/fingerprint"
}
# Whether the state fingerprinted $1 is the one last recorded as in agreement with the policy.
# No fingerprint (a failed read) matches nothing, a missing record least of all.
checked_before() { [ -n "$1" ] && [ "$(cat "$STATE/checked/fingerprint" 2>/dev/null)" = "$1" ]; }

# --- The steps ---------------------------------------------------------------------------------

converge_main() {
    setup
    install_ufw
    lock
    converge
}

# Converges the host to the policy; the caller holds the lock.
converge() {
    local active declared
    rm -f "$STATE/stop-ufw"
    if [ -f "$STATE/pending" ]; then
        say "change $(pending_field id) from an earlier run was never confirmed: restoring the rules it replaced first"
        rollback "a new run started before it was confirmed"
    fi
    rm -f "$STATE/change" "$STATE/rolled-back"
    declared=$(count_lines "$DESIRED")

    local drift="" current problem sshd_changed=no extra added fingerprint
    local -A KERNEL=()
    read_kernel
    fingerprint=$(state_fingerprint)
    # As the last check under this lock found it in agreement with this policy: nothing to change,
    # and nothing to read again but what no fingerprint holds (sshd's settings, Docker's backend).
    if checked_before "$fingerprint" && sshd_in_sync &&
        { [ "$WANT_DOCKER" = no ] || [ -z "$(docker_backend_problem)" ]; }; then
        say "no changes: the firewall is active and its $declared declared rules are in force"
        return 0
    fi
    added=$(ufw_added)
    current=$(owned "$added")
    extra=$(unmanaged "$added")
    if [ -n "$extra" ] && [ "$UNMANAGED" = fail ]; then
        fail "refusing to harden, nothing was changed: $(unmanaged_message "$extra")"
    fi
    if [ "$WANT_DOCKER" = yes ]; then
        problem=$(docker_backend_problem)
        [ -z "$problem" ] || fail "$problem"
    fi
    active=no
    if is_active; then
        active=yes
        [ "$(conf IPV6 /etc/default/ufw)" = "$WANT_IPV6" ] ||
            fail "IPV6 on the host differs from the policy (ipv6: $WANT_IPV6); changing it needs a reload that briefly opens the firewall, so apply it in a maintenance window with: sudo sed -i 's/^IPV6=.*/IPV6=$WANT_IPV6/' /etc/default/ufw && sudo ufw reload"
        [ "$(current_defaults)" = "$WANT_DEFAULTS" ] ||
            fail "default policies on the host are '$(current_defaults)', the policy wants '$WANT_DEFAULTS'; changing a default on a live firewall reloads it, so apply it in a maintenance window with: sudo ufw default $WANT_OUTGOING outgoing"
        ! can_compare_kernel || drift=$(kernel_drift)
        if rules_in_sync "$current" && [ "$(current_logging)" = "$WANT_LOGGING" ] && [ -z "$drift" ] &&
            [ -z "$(own_drift)" ] && sshd_in_sync && { [ -z "$extra" ] || [ "$UNMANAGED" = keep ]; }; then
            say "no changes: the firewall is active and its $declared declared rules are in force"
            record_checked "$fingerprint" "$extra"
            return 0
        fi
    fi

    rm -rf "$STATE/checked"
    restore_on_interruption
    snapshot
    arm_rollback "$(date -u +%Y%m%dT%H%M%SZ)-$$"
    if ! sshd_in_sync; then
        say "sshd: password logins off, root by key only (checked with sshd -t)"
        sshd_install
        touch "$STATE/snapshot/sshd-changed"
        sshd_changed=yes
    fi
    BATCH=()
    if [ "$active" = no ]; then
        say "firewall is inactive: setting IPV6=$WANT_IPV6 and defaults deny incoming, $WANT_OUTGOING outgoing"
        sed -i "s/^IPV6=.*/IPV6=$WANT_IPV6/" /etc/default/ufw
        BATCH+=("default deny incoming" "default $WANT_OUTGOING outgoing")
    else
        say "firewall is active: changing it rule by rule"
    fi
    # SSH rules come first in DESIRED, so they are in place before anything else.
    plan_rules "$current" "$DESIRED"
    local kernel_removals=()
    if [ "$UNMANAGED" = remove ]; then
        plan_unmanaged_removal "$extra"
    elif [ -n "$extra" ]; then
        say "keeping $(count_lines "$extra") rules the policy does not declare (hardening.unmanagedRules: keep); verify lists them"
    fi
    if [ "$(current_logging)" != "$WANT_LOGGING" ]; then
        say "logging: $WANT_LOGGING"
        BATCH+=("logging $WANT_LOGGING")
    fi
    if [ "$active" = no ]; then
        say "enabling the firewall (SSH is already allowed)"
        BATCH+=("--force enable")
    fi
    # Before the batch: a first run's enable loads this block from after.rules, so sshd's replies
    # get out of the session that enables UFW with outgoing traffic denied.
    own_apply "$SSH_REPLIES_CHAIN"
    run_batch
    remove_kernel_rules
    # After the batch: on a first run its enable loads after.rules, whose Docker block declares
    # (and so empties) DOCKER-USER; loaded live instead, rules others keep there stay.
    own_apply "$DOCKER_CHAIN"
    # ufw keeps its files and the kernel in step; drift found before came from outside it.
    if [ -n "$drift" ]; then
        say "the kernel's rules differ from UFW's files (changed outside ufw): reloading the user chains atomically"
        reload_user_chains
    fi
    if [ "$sshd_changed" = yes ]; then
        say "reloading sshd: open sessions stay, new connections get the new settings"
        sshd_reload
    fi
    start_window
    say "converged: $ADDED added, $REMOVED removed, $declared rules declared"
}

# Verify's checks of UFW and the kernel against the policy: appends each difference to the
# caller's problems, and sets its extra to the rules kept beyond the policy (hardening.unmanagedRules:
# keep). Reads the caller's KERNEL.
policy_problems() {
    if ! is_active; then
        problems+=("the firewall is not active")
    fi
    [ "$(current_defaults)" = "$WANT_DEFAULTS" ] ||
        problems+=("defaults are '$(current_defaults)', expected '$WANT_DEFAULTS'")
    [ "$(current_logging)" = "$WANT_LOGGING" ] ||
        problems+=("logging is '$(current_logging)', expected '$WANT_LOGGING'")
    [ "$(conf IPV6 /etc/default/ufw)" = "$WANT_IPV6" ] ||
        problems+=("IPV6 is not $WANT_IPV6 in /etc/default/ufw")
    local diff drift
    added=$(ufw_added)
    diff=$(diff <(printf '%s\n' "$DESIRED" | grep . | sort) <(owned "$added" | sort) || true)
    [ -z "$diff" ] || problems+=("rules differ from the policy (< declared, > on the host):"$'\n'"$diff")
    extra=$(unmanaged "$added")
    [ -z "$extra" ] || [ "$UNMANAGED" = keep ] || problems+=("$(unmanaged_message "$extra")")
    drift=$(own_drift)
    [ -z "$drift" ] || problems+=("the chains for forwarded traffic and sshd's replies differ from the policy:"$'\n'"$drift")
    if ! is_active; then
        : # nothing in the kernel to compare
    elif can_compare_kernel; then
        drift=$(kernel_drift)
        [ -z "$drift" ] || problems+=("the kernel's rules differ from UFW's files:"$'\n'"$drift")
    else
        say "kernel chains not compared: this host does not allow a scratch network namespace (unshare --net)"
    fi
}

# $1: confirm for the last step, which never applies the policy itself (nothing would confirm it).
verify_main() {
    local problems=() drift reapplied=no status
    setup
    lock
    if last_change_rolled_back; then
        # The change that applied this policy never got its confirmation: the run was interrupted,
        # verify came too late or found differences, or the host restarted. Pulumi saved harden's
        # inputs anyway, so harden will not run again: verify applies the policy itself.
        check_not_locked_out
        [ "${1:-}" != confirm ] ||
            fail "$(rollback_story). The policy admits this connection's address, so adminCidrs is not the cause: the run was interrupted, or this step could not connect in time. To apply the policy again, run pulumi up --replace on the verify step (its URN ends in ::openclaw-verify; pulumi stack --show-urns lists it)."
        say "$(rollback_story); this connection's address is admitted by the policy: applying it again"
        converge
        reapplied=yes
    fi

    local added extra="" fingerprint checked=no
    local -A KERNEL=()
    read_kernel
    fingerprint=$(state_fingerprint)
    if checked_before "$fingerprint"; then
        # What the last step checked under this lock (harden, finding nothing to change, or verify)
        # is unchanged since: only what no fingerprint holds, sshd's answers, is asked again below.
        checked=yes
        extra=$(cat "$STATE/checked/extra")
        say "UFW's files, its hooks and the kernel's chains are as the last check found them in agreement with the policy"
    else
        policy_problems
    fi
    if [ "$WANT_SSHD" = yes ]; then
        [ "$(sshd_current)" = "$SSHD_CONFIG" ] || problems+=("sshd's settings differ from the policy")
        drift=$(sshd_login_drift)
        [ -z "$drift" ] || problems+=("$drift")
    fi

    if [ ${#problems[@]} -gt 0 ]; then
        printf 'openclaw: FAILED: %s\n' "${problems[@]}" >&2
        if [ -f "$STATE/pending" ]; then
            restore_now "verify found differences from the policy, listed by that step"
        fi
        exit 1
    fi
    if [ "$reapplied" = yes ] && [ -f "$STATE/pending" ]; then
        # Confirmed only by a connection opened after the change: the confirm step's.
        say "applied again as change $(pending_field id); the confirm step confirms it from a new SSH connection"
    elif [ -f "$STATE/pending" ]; then
        # A connection already open when the change came into force rides on it as an established
        # connection: it proves nothing about new ones.
        session_after_change ||
            fail "this SSH connection was opened before change $(pending_field id) was in force, so it cannot confirm it; the host restores the rules from before it unless a newer connection confirms it within ${ROLLBACK_AFTER}s of it being in force"
        disarm
        say "confirmed change $(pending_field id) from a new SSH connection: rollback disarmed"
        rm -f "$STATE/pending"
    fi
    say "verified: $(count_lines "$DESIRED") declared rules in force, in UFW's files and in the kernel"
    if [ -n "$extra" ]; then
        say "kept, as hardening.unmanagedRules is keep: $(count_lines "$extra") rules the policy does not declare, which admit more than it:"
        printf '%s\n' "$extra" | sed 's/^/  /'
    fi
    # UFW's status follows from what the fingerprint holds: kept with it, printed from there.
    if [ "$checked" = yes ] && [ -f "$STATE/checked/status" ]; then
        cat "$STATE/checked/status"
    else
        # Its output exactly, trailing blank line included.
        status=$(ufw status verbose && echo .)
        status=${status%.}
        record_checked "$fingerprint" "$extra" "$status"
        printf '%s' "$status"
    fi
}

# The last step, on a connection opened after verify's: confirms a change verify applied again.
confirm_main() { verify_main confirm; }
