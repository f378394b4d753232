# The host side of the HTTPS proxy: Caddy in front of the gateway. apply, verify, remove.
#
# components/proxy/script.ts renders the step as: a header that sets every global (DOMAIN,
# CADDYFILE_TEXT, ACME_ROOT, CADDY_KIND, ...), then this file, then one call, `proxy_main "$@"`.
# The mode is the one argument of `bash -s MODE` in the step's constant command text: apply
# (create and update), remove (delete) or verify. Everything here is a function and nothing
# assigns a global, so a script cut short in transit runs nothing. Nothing here is secret.
#
# apply installs Caddy, writes the Caddyfile (validated by Caddy before it replaces the one in
# force), restarts Caddy and waits until it serves a certificate for the domain that chains to
# the CA. Once it has changed anything, any end but success puts back the files it changed and
# Caddy as it was (running with them, or stopped), from its EXIT trap.

say() { printf 'proxy: %s\n' "$*"; }
fail() {
    printf 'proxy: FAILED: %s\n' "$*" >&2
    exit 1
}

setup() {
    set -euo pipefail
    export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    umask 077
    [ "$(id -u)" -eq 0 ] || fail "must run as root: give the SSH user passwordless sudo"
    # A failure inside $(...) fails the step too: bash would otherwise go on there.
    shopt -s inherit_errexit
    # sudo leaves root in the SSH user's home, whose files no tool run as root should pick up.
    cd /
}

# One proxy step at a time on a host.
lock() {
    exec 8>/run/openclaw-proxy.lock
    flock -w 600 8 || fail "another proxy step has held /run/openclaw-proxy.lock for 10 minutes"
}

# apt-get as a step runs it: no questions, and waiting for another apt (a first boot's
# unattended-upgrades) rather than failing on its lock.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }

# As openclaw.sh's: apt reads a signed-by keyring armoured only when its name ends in .asc.
dearmor() {
    tr -d '\r' | awk '
        /^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { block = 1; body = 0; next }
        block && !body { if ($0 ~ /^[ \t]*$/) body = 1; next }
        block && /^(=|-----END)/ { block = 0; next }
        block { print }' | base64 -d
}

# The signed-by keyring the apt source names, if any.
apt_keyring() { sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' <<<"$CADDY_APT_SOURCE"; }

caddy_installed() { [ "$(dpkg-query -W -f '${Status}' caddy 2>/dev/null || true)" = "install ok installed" ]; }

# apt's last words from log $1 to stderr, then what could not be done ($2).
apt_failed() {
    tail -n 20 "$1" | sed 's/^/  /' >&2
    rm -f "$1"
    fail "could not install caddy from ${CADDY_APT_SOURCE:-the distribution}: $2"
}

# The apt source and its key, as openclaw.sh writes Node's.
write_apt_source() {
    local keyring
    keyring=$(apt_keyring)
    if [ -n "$CADDY_APT_KEY" ]; then
        [ -n "$keyring" ] || fail "the apt source has no signed-by=PATH to write its key to: $CADDY_APT_SOURCE"
        (umask 022 && mkdir -p "$(dirname "$keyring")")
        case $keyring in
            *.asc) (umask 022 && printf '%s\n' "$CADDY_APT_KEY" >"$keyring.new") ;;
            *) (umask 022 && dearmor <<<"$CADDY_APT_KEY" >"$keyring.new") || rm -f "$keyring.new" ;;
        esac
        [ -s "$keyring.new" ] || fail "the apt key for $keyring is not an ASCII-armoured OpenPGP key"
        mv -f "$keyring.new" "$keyring"
    fi
    (umask 022 && printf '%s\n' "$CADDY_APT_SOURCE" >"$CADDY_APT_LIST")
}

# The package starts Caddy with its own Caddyfile (a welcome page on port 80) as it installs:
# masked until ours is written, it never serves that.
install_caddy() {
    local log
    [ "$CADDY_KIND" != apt ] || write_apt_source
    if caddy_installed && command -v openssl >/dev/null 2>&1; then return 0; fi
    say "installing caddy from ${CADDY_APT_SOURCE:-the distribution}"
    log=$(mktemp)
    apt_get update >"$log" 2>&1 || apt_failed "$log" "apt-get update failed"
    if ! caddy_installed; then
        # systemd says the unit does not exist yet, and masks it all the same.
        systemctl mask --runtime --quiet "$CADDY_UNIT" 2>/dev/null
        mark unmask
        apt_get install caddy >"$log" 2>&1 || apt_failed "$log" "apt-get install caddy failed"
        systemctl unmask --runtime --quiet "$CADDY_UNIT"
        rm -f "$KEPT/unmask"
    fi
    # openssl reads the certificate Caddy serves; ca-certificates brings it on most images.
    command -v openssl >/dev/null 2>&1 || apt_get install openssl >"$log" 2>&1 || apt_failed "$log" "apt-get install openssl failed"
    rm -f "$log"
    caddy_installed || fail "apt installed caddy, yet dpkg does not list it as installed"
}

# --- Going back ------------------------------------------------------------------------------------
#
# Before apply changes anything, it keeps in $KEPT (root, 0700) copies of each file it may change
# and whether Caddy was active and enabled. From then on any end but success runs put_back from
# the EXIT trap. A record on disk, not variables: bash 5.2 unwinds a function's locals before the
# EXIT trap runs.

# Records in $KEPT, when the step keeps one, that $1 happened ($2: why, for `why`).
mark() { if [ -d "$KEPT" ]; then printf '%s\n' "${2:-}" >"$KEPT/$1"; fi; }

# Copies file $1 to $KEPT/$2, or records that there was none.
keep_file() {
    if [ -f "$1" ]; then cp -p "$1" "$KEPT/$2"; else touch "$KEPT/$2.absent"; fi
}

keep_previous() {
    local keyring
    rm -rf "$KEPT"
    mkdir -p "$(dirname "$KEPT")"
    chmod 700 "$(dirname "$KEPT")"
    mkdir -m 700 "$KEPT"
    if systemctl is-active --quiet "$CADDY_UNIT"; then touch "$KEPT/was-active"; fi
    if systemctl is-enabled --quiet "$CADDY_UNIT" 2>/dev/null; then touch "$KEPT/was-enabled"; fi
    keep_file "$CADDY_APT_LIST" apt-list
    keyring=$(apt_keyring)
    if [ "$CADDY_KIND" = apt ] && [ -n "$keyring" ]; then
        keep_file "$keyring" keyring
        printf '%s\n' "$keyring" >"$KEPT/keyring-path"
    fi
}

# Caddy's files, kept once the package is there: its own Caddyfile is what a first apply puts back.
keep_caddy_files() {
    keep_file "$CADDYFILE" caddyfile
    keep_file "$CADDYFILE_ORIGINAL" original
    keep_file "$ACME_ROOT_FILE" acme-root
}

# Puts file $1 back from $KEPT/$2 (kept, or recorded absent); succeeds only when that changed something.
put_file() {
    if [ -e "$KEPT/$2.absent" ]; then
        [ -e "$1" ] || return 1
        rm -f "$1"
    elif [ -f "$KEPT/$2" ]; then
        ! cmp -s "$KEPT/$2" "$1" || return 1
        cp -p "$KEPT/$2" "$1.new"
        mv -f "$1.new" "$1"
    else
        return 1
    fi
}

# Puts back the files apply changed, and Caddy as it was: restarted with them when it was
# running and this step restarted it, stopped (and disabled, unless it was) when it was not. Fails when Caddy does not come back.
put_back() {
    local put=()
    if [ -e "$KEPT/unmask" ]; then systemctl unmask --runtime --quiet "$CADDY_UNIT" 2>/dev/null || true; fi
    if put_file "$CADDYFILE" caddyfile; then put+=("$CADDYFILE"); fi
    if put_file "$CADDYFILE_ORIGINAL" original; then put+=("$CADDYFILE_ORIGINAL"); fi
    if put_file "$ACME_ROOT_FILE" acme-root; then put+=("$ACME_ROOT_FILE"); fi
    if put_file "$CADDY_APT_LIST" apt-list; then put+=("$CADDY_APT_LIST"); fi
    if [ -f "$KEPT/keyring-path" ] && put_file "$(<"$KEPT/keyring-path")" keyring; then put+=("the apt keyring"); fi
    rm -f "$CADDYFILE.new" "$ACME_ROOT_FILE.new"
    if [ -e "$KEPT/was-active" ]; then
        # Not restarted by this step, Caddy still runs what it read before: the files are that again.
        if [ -e "$KEPT/restarted" ] || ! systemctl is-active --quiet "$CADDY_UNIT"; then
            say "putting back $(list "nothing changed" "${put[@]}"); restarting $CADDY_UNIT"
            systemctl restart "$CADDY_UNIT" || return 1
        fi
    else
        say "putting back $(list "nothing changed" "${put[@]}"); $CADDY_UNIT was not running before this step: stopping it"
        systemctl stop "$CADDY_UNIT" 2>/dev/null || true
    fi
    if [ ! -e "$KEPT/was-enabled" ]; then systemctl disable --quiet "$CADDY_UNIT" 2>/dev/null || true; fi
    rm -rf "$KEPT"
}

# The EXIT trap while a change is under way: any end but success puts the previous state back
# and says so; $KEPT/why says what failed, when the step knew.
on_exit() {
    local status=$? why
    trap - EXIT
    # Going back must not be cut short by a dead session: its writes fail instead.
    trap '' HUP PIPE
    set +e
    if [ "$status" -eq 0 ] || [ ! -d "$KEPT" ]; then exit "$status"; fi
    why="the proxy step failed (exit $status)"
    if [ -f "$KEPT/why" ]; then why=$(<"$KEPT/why"); fi
    if put_back; then
        printf 'proxy: FAILED: %s; Caddy and its files are back as they were before this step\n' "$why" >&2
    else
        printf 'proxy: FAILED: %s; the files from before this step are back, yet %s does not start with them; its last lines:\n' "$why" "$CADDY_UNIT" >&2
        caddy_journal 15 >&2
    fi
    exit "$status"
}

# The session gone (SIGHUP, SIGPIPE) or the step stopped (SIGTERM, SIGINT): the rest is written to
# $STEP_LOG, since a write to a dead session raises SIGPIPE again; then the EXIT trap runs.
on_signal() {
    trap '' HUP PIPE
    exec >>"$STEP_LOG" 2>&1
    say "$(date -u +%FT%TZ): got SIG$1 (the session dropped, or the step was stopped)"
    mark why "the proxy step got SIG$1 (its session dropped, or it was stopped)"
    exit $((128 + $(kill -l "$1")))
}

arm_signals() {
    local sig
    for sig in HUP PIPE TERM INT; do trap "on_signal $sig" "$sig"; done
}

# Its arguments after the first joined with ", "; the first when there are none.
list() {
    local IFS=,
    if [ $# -gt 1 ]; then shift; fi
    sed 's/,/, /g' <<<"$*"
}

# --- Caddy's files ---------------------------------------------------------------------------------

# Writes $2 to file $1 (0644: Caddy's user reads it, nothing in it is secret) when it differs;
# prints changed or unchanged. "-" as $2 removes the file.
write_file() {
    if [ "$2" = - ]; then
        [ -e "$1" ] || { echo unchanged && return 0; }
        rm -f "$1"
        echo changed
        return 0
    fi
    if [ -f "$1" ] && [ "$(<"$1")" = "$2" ]; then
        echo unchanged
        return 0
    fi
    (umask 022 && printf '%s\n' "$2" >"$1.new")
    mv -f "$1.new" "$1"
    echo changed
}

# Whether the Caddyfile at $1 is one this step wrote.
ours() { [ -f "$1" ] && [ "$(head -n 1 "$1")" = "$CADDYFILE_MARKER" ]; }

# Caddy's own check of Caddyfile $1, as Caddy's user with its home (it provisions the TLS app,
# which reads acme_ca_root): what `caddy run` would refuse is refused before it is in force.
validate() {
    local out
    if ! out=$(runuser -u "$CADDY_USER" -- env HOME="$CADDY_HOME" caddy validate --adapter caddyfile --config "$1" 2>&1); then
        tail -n 10 <<<"$out" | sed 's/^/  /' >&2
        return 1
    fi
}

# Caddy's last $1 lines in the journal, since $2 (a date) when given, about ACME and certificates
# when $3 is set; indented.
caddy_journal() {
    local since=()
    [ -z "${2:-}" ] || since=(--since "$2")
    journalctl -u "$CADDY_UNIT" "${since[@]}" --no-pager -q -o cat 2>/dev/null |
        if [ -n "${3:-}" ]; then grep -iE 'acme|challenge|certificate|obtain|renew|issuer|error' || true; else cat; fi |
        tail -n "$1" | sed 's/^/  /' || true
}

# --- The certificate -------------------------------------------------------------------------------

# The trust openssl checks the served chain against: the CA's root when given, else the host's store.
trust_args() {
    if [ -n "$ACME_ROOT" ]; then echo "-CAfile $ACME_ROOT_FILE"; else echo "-CApath /etc/ssl/certs"; fi
}

# The TLS handshake with Caddy on loopback for the domain (SNI), the chain checked against the
# CA and the name against the domain; $1 a file for the leaf certificate (PEM). Fails, printing
# openssl's reason, when the handshake or the check fails.
fetch_certificate() {
    local out
    # shellcheck disable=SC2046 # trust_args is two words by design
    if ! out=$(openssl s_client -connect "$LOCAL_TLS" -servername "$DOMAIN" -verify_hostname "$DOMAIN" \
        -verify_return_error $(trust_args) </dev/null 2>&1); then
        grep -m 1 -iE 'verify error|error|refused|alert' <<<"$out" || echo "no TLS handshake on $LOCAL_TLS"
        return 1
    fi
    openssl x509 -out "$1" <<<"$out" 2>/dev/null || {
        echo "no certificate in Caddy's answer"
        return 1
    }
}

# Prints why the served certificate does not do, or nothing when it does: it chains to the CA,
# is for the domain, and has more than MIN_DAYS_LEFT days left, or, short-lived, more than a
# third of its lifetime (Caddy renews at a third: it is not due), or, due, is still valid while
# Caddy's journal shows it renewing in the last RENEWAL_PENDING_MINUTES minutes.
certificate_problem() {
    local leaf why start end now left life
    leaf=$(mktemp)
    if ! why=$(fetch_certificate "$leaf"); then
        rm -f "$leaf"
        echo "Caddy serves no valid certificate for $DOMAIN from $ACME_DIRECTORY: $why"
        return 0
    fi
    start=$(date -d "$(openssl x509 -in "$leaf" -noout -startdate | cut -d= -f2)" +%s)
    end=$(date -d "$(openssl x509 -in "$leaf" -noout -enddate | cut -d= -f2)" +%s)
    rm -f "$leaf"
    now=$(date +%s)
    left=$((end - now))
    life=$((end - start))
    if [ "$left" -gt $((MIN_DAYS_LEFT * 86400)) ] || [ $((left * 3)) -gt "$life" ]; then return 0; fi
    if [ "$left" -gt 0 ] && renewal_pending; then return 0; fi
    echo "the certificate Caddy serves for $DOMAIN has $((left / 3600)) hours left of $((life / 3600)) and Caddy is not renewing it; its last lines about ACME:"
    caddy_journal 10 "-${RENEWAL_PENDING_MINUTES}min" acme
}

# Whether Caddy's journal shows it renewing the domain's certificate lately.
renewal_pending() {
    journalctl -u "$CADDY_UNIT" --since "-${RENEWAL_PENDING_MINUTES}min" --no-pager -q -o cat 2>/dev/null |
        grep -F "$DOMAIN" | grep -cE 'queuing for renewal|renewing certificate' >/dev/null
}

# What the served certificate says, for the log: its issuer and end.
certificate_summary() {
    openssl s_client -connect "$LOCAL_TLS" -servername "$DOMAIN" </dev/null 2>/dev/null |
        openssl x509 -noout -issuer -enddate 2>/dev/null | paste -sd' ' || true
}

# Waits until Caddy serves a good certificate for the domain, up to CERT_TIMEOUT seconds.
wait_certificate() {
    local deadline=$((SECONDS + CERT_TIMEOUT)) why
    while :; do
        why=$(certificate_problem)
        [ -n "$why" ] || return 0
        if [ "$SECONDS" -ge "$deadline" ] || ! systemctl is-active --quiet "$CADDY_UNIT"; then
            printf '%s\n' "$why"
            return 1
        fi
        sleep 3
    done
}

# --- Listeners -------------------------------------------------------------------------------------

# Prints each listener beyond loopback that breaks the proxy's promise: ports 80 and 443 (TCP)
# held by anything but Caddy, Caddy listening anywhere else, the gateway's port beyond loopback.
listener_problems() {
    local proto local_addr process port addr
    while read -r proto local_addr process; do
        port=${local_addr##*:}
        addr=${local_addr%:*}
        case $addr in 127.* | "[::1]" | "[::ffff:127."*) continue ;; esac
        if [ "$port" = "$GATEWAY_PORT" ]; then
            echo "$local_addr ($proto) listens on the gateway's port beyond loopback: only Caddy may face the network"
        elif [ "$proto" = tcp ] && { [ "$port" = 80 ] || [ "$port" = 443 ]; }; then
            [[ $process == *'"caddy"'* ]] || echo "$local_addr ($proto) is held by ${process:-an unknown process}, not Caddy"
        elif [[ $process == *'"caddy"'* ]]; then
            echo "Caddy listens on $local_addr ($proto) beyond loopback: only 80 and 443 over TCP are its"
        fi
    done < <(ss -H -lntup | awk '{ print $1, $5, $7 }')
    [ -n "$(ss -H -lnt 'sport = :443')" ] || echo "nothing listens on TCP port 443"
    [ -n "$(ss -H -lnt 'sport = :80')" ] || echo "nothing listens on TCP port 80"
}

# One HTTP request for path $2 on loopback: $1 80 is plain HTTP to LOCAL_HTTP, 443 is TLS for the
# domain to LOCAL_TLS; prints the status line and the Location header. Plain HTTP through bash's
# /dev/tcp: no curl needed. The request is printf's own output, never a $(...), which would strip
# its final line break.
http_head() {
    local format='GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
    if [ "$1" = 80 ]; then
        timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "$3" "$4" "$5" >&3 && cat <&3' _ \
            "${LOCAL_HTTP%:*}" "${LOCAL_HTTP##*:}" "$format" "$2" "$DOMAIN" 2>/dev/null |
            tr -d '\r' | grep -iE '^(HTTP/|location:)' || true
    else
        # -quiet waits for the answer after stdin ends (it implies -ign_eof); Caddy then closes.
        # shellcheck disable=SC2046 # trust_args is two words by design
        printf "$format" "$2" "$DOMAIN" | timeout 10 openssl s_client -quiet -connect "$LOCAL_TLS" \
            -servername "$DOMAIN" -verify_hostname "$DOMAIN" -verify_return_error $(trust_args) 2>/dev/null |
            tr -d '\r' | grep -iE '^HTTP/' || true
    fi
}

# --- The steps -------------------------------------------------------------------------------------

apply_main() {
    local changed=() result start why
    setup
    arm_signals
    lock
    keep_previous
    trap on_exit EXIT
    install_caddy
    keep_caddy_files
    if ! ours "$CADDYFILE" && [ -f "$CADDYFILE" ] && [ ! -e "$CADDYFILE_ORIGINAL" ]; then
        cp -p "$CADDYFILE" "$CADDYFILE_ORIGINAL"
    fi
    result=$(write_file "$ACME_ROOT_FILE" "${ACME_ROOT:--}")
    [ "$result" = unchanged ] || changed+=("$ACME_ROOT_FILE")
    (umask 022 && printf '%s\n' "$CADDYFILE_TEXT" >"$CADDYFILE.new")
    if ! validate "$CADDYFILE.new"; then
        mark why "caddy validate refused the new Caddyfile (above); the one in force was not replaced"
        exit 1
    fi
    result=$(write_file "$CADDYFILE" "$CADDYFILE_TEXT")
    rm -f "$CADDYFILE.new"
    [ "$result" = unchanged ] || changed+=("$CADDYFILE")
    systemctl is-enabled --quiet "$CADDY_UNIT" 2>/dev/null || systemctl enable --quiet "$CADDY_UNIT"
    start=$(date '+%Y-%m-%d %H:%M:%S')
    if [ ${#changed[@]} -gt 0 ] || ! systemctl is-active --quiet "$CADDY_UNIT"; then
        say "changed: $(list "caddy not running" "${changed[@]}"); restarting $CADDY_UNIT"
        systemctl reset-failed "$CADDY_UNIT" 2>/dev/null || true
        mark restarted
        if ! systemctl restart "$CADDY_UNIT"; then
            caddy_journal 15 "$start" >&2
            mark why "$CADDY_UNIT did not start with the new Caddyfile (its last lines above)"
            exit 1
        fi
    else
        say "no changes: Caddy is running with this Caddyfile"
    fi
    say "waiting up to ${CERT_TIMEOUT}s for a certificate for $DOMAIN from $ACME_DIRECTORY"
    if ! why=$(wait_certificate); then
        printf '%s\n' "$why" >&2
        say "Caddy's lines about ACME since the restart:" >&2
        caddy_journal 20 "$start" acme >&2
        mark why "no certificate for $DOMAIN within ${CERT_TIMEOUT}s: check that the DNS record of $DOMAIN points at this host, that port 80 is reachable from the CA for its HTTP-01 challenge, and the CA's rate limits (Caddy's lines above)"
        exit 1
    fi
    trap - EXIT
    rm -rf "$KEPT"
    say "https://$DOMAIN/ serves $(certificate_summary)"
    echo "proxy-domain: $DOMAIN"
}

verify_main() {
    local problems=() why line status location
    setup
    lock
    systemctl is-active --quiet "$CADDY_UNIT" || problems+=("$CADDY_UNIT is not active ($(systemctl show -p ActiveState --value "$CADDY_UNIT"))")
    systemctl is-enabled --quiet "$CADDY_UNIT" 2>/dev/null || problems+=("$CADDY_UNIT is not enabled: it would not start at boot")
    [ -f "$CADDYFILE" ] && [ "$(<"$CADDYFILE")" = "$CADDYFILE_TEXT" ] ||
        problems+=("$CADDYFILE is not the one the proxy step wrote (changed behind its back?)")
    why=$(certificate_problem)
    [ -z "$why" ] || problems+=("$why")
    while IFS= read -r line; do [ -z "$line" ] || problems+=("$line"); done < <(listener_problems)
    read -r _ status _ < <(http_head 443 /healthz) || true
    [ "${status:-}" = 200 ] || problems+=("https://$DOMAIN/healthz through Caddy answered ${status:-nothing}, not 200: the gateway behind it does not answer")
    status=$(http_head 80 / | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
    location=$(http_head 80 / | sed -n 's/^[Ll]ocation: *//p')
    case "$status $location" in
        "30"[18]" https://$DOMAIN/"*) ;;
        *) problems+=("http://$DOMAIN/ answered ${status:-nothing} ${location:+to $location }instead of a redirect to https://$DOMAIN/") ;;
    esac
    if [ ${#problems[@]} -gt 0 ]; then
        printf 'proxy: FAILED: %s\n' "${problems[@]}" >&2
        exit 1
    fi
    say "verified: Caddy serves https://$DOMAIN/ ($(certificate_summary)), redirects http, and nothing else listens beyond loopback for the gateway"
}

# Stops and disables Caddy, puts the package's own Caddyfile back (or removes ours), and removes
# the CA's root file and the apt source with its keyring. Caddy's storage (its certificates and
# ACME account, under $CADDY_HOME) stays: a later apply reuses them instead of asking the CA
# again, whose rate limits count. The caddy package stays too, as nodejs does.
remove_main() {
    local keyring
    setup
    lock
    if systemctl cat "$CADDY_UNIT" >/dev/null 2>&1; then
        systemctl disable --now --quiet "$CADDY_UNIT" 2>/dev/null || systemctl stop "$CADDY_UNIT" 2>/dev/null || true
    fi
    if [ -f "$CADDYFILE_ORIGINAL" ]; then
        mv -f "$CADDYFILE_ORIGINAL" "$CADDYFILE"
    elif ours "$CADDYFILE"; then
        rm -f "$CADDYFILE"
    fi
    rm -f "$ACME_ROOT_FILE" "$CADDYFILE.new" "$CADDY_APT_LIST"
    keyring=$(apt_keyring)
    if [ "$CADDY_KIND" = apt ] && [ -n "$keyring" ]; then rm -f "$keyring"; fi
    rm -rf "$KEPT"
    say "removed the proxy: $CADDY_UNIT stopped and disabled, our Caddyfile, the CA's root and Caddy's apt source gone"
    say "kept the caddy package and its certificates in $CADDY_HOME; remove them with: sudo apt-get purge caddy"
}

# The one entry: the mode is the argument the step's command text gives bash.
proxy_main() {
    case ${1:-} in
        apply) apply_main ;;
        verify) verify_main ;;
        remove) remove_main ;;
        *) fail "unknown mode '${1:-}': apply, verify or remove" ;;
    esac
}
