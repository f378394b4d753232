# The host side of OpenClaw: install or upgrade (with rollback), verify, remove.
#
# components/openclaw/script.ts renders each step as: a header that sets every global
# (VERSION, PORT, BIND, NODE_*, UNIT_TEXT, ...), then this file; the install step then gets
# the secrets (SECRET_GATEWAY_TOKEN, SECRET_ANTHROPIC_API_KEY, SECRET_OPENAI_API_KEY) as plain
# shell variables, never exported, and last the call (install_main, verify_main or
# remove_main). Everything here is a function and nothing assigns a global, so a script cut
# short in transit runs nothing. No secret is ever a process argument or printed: they reach
# the environment file through printf, a builtin. Once the install step changes anything the
# running gateway depends on, every way it can end but success puts the previous release back
# (put_back, from its EXIT trap).

say() { printf 'openclaw: %s\n' "$*"; }
fail() {
    printf 'openclaw: FAILED: %s\n' "$*" >&2
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

# One OpenClaw step at a time on a host.
lock() {
    exec 8>/run/openclaw-gateway.lock
    flock -w 600 8 || fail "another OpenClaw step has held /run/openclaw-gateway.lock for 10 minutes"
}

helper() { "$NODE_BIN" -e "$HELPER_JS" "$@"; }
# The helper as the service's user, for files in its state directory: root must not follow the
# links that user can plant there (it could read or take any file on the host through them).
helper_as_user() { runuser -u "$OC_USER" -- "$NODE_BIN" -e "$HELPER_JS" "$@"; }

# Fails unless each path that exists belongs to root, with nothing inside writable by another
# user: root runs this code (Node) and the service runs it; another owner could swap it.
check_root_owned() {
    local p other
    for p in "$@"; do
        [ -e "$p" ] || continue
        # A .partial directory is a step's scratch, removed before it is used.
        other=$(find "$p" -name '*.partial' -prune -o \
            \( ! -user root -o -perm -o+w ! -type l -o -perm -g+w ! -type l \) -print -quit)
        [ -z "$other" ] ||
            fail "$other is not root's alone (owner $(stat -c %U "$other"), mode $(stat -c %a "$other")): OpenClaw's code must be writable by root only; move the earlier install away"
    done
}

# --- Downloads ----------------------------------------------------------------------------------

# $1 URL to file $2, with whatever the host has: cloud images ship curl, minimal ones python3.
fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    elif command -v python3 >/dev/null 2>&1; then
        # Isolated (-I): nothing from the working directory, PYTHON* or the user's site is imported.
        python3 -I -c 'import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f)' "$1" "$2"
    else
        fail "cannot download $1: the host has neither curl, wget nor python3"
    fi
}

# Unpacks tarball $1 (.tar.xz) into directory $2 without its top directory. tar needs the xz
# program for that; without it (minimal images), python3's lzma decompresses for tar.
unpack() {
    if command -v xz >/dev/null 2>&1; then
        tar -xJf "$1" -C "$2" --strip-components=1 --no-same-owner
    elif command -v python3 >/dev/null 2>&1; then
        python3 -I -c 'import lzma, shutil, sys
shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1" |
            tar -x -C "$2" --strip-components=1 --no-same-owner
    else
        fail "cannot unpack $1: the host has neither xz nor python3"
    fi
}

# --- Node ---------------------------------------------------------------------------------------

node_arch() {
    case $(uname -m) in
        x86_64) echo x64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) fail "no Node distribution for this machine ($(uname -m))" ;;
    esac
}

install_node() {
    if [ "$NODE_KIND" = tarball ]; then install_node_tarball; else install_node_apt; fi
}

install_node_tarball() {
    local dir=$NODE_ROOT/$NODE_VERSION file url tmp want got
    if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
        return 0
    fi
    file=node-v$NODE_VERSION-linux-$(node_arch).tar.xz
    url=${NODE_DIST_URL}v$NODE_VERSION/$file
    say "installing Node $NODE_VERSION from $url"
    tmp=$(mktemp -d)
    fetch "$url" "$tmp/$file" || fail "could not download Node $NODE_VERSION from $url"
    if [ -n "$NODE_SHA256" ]; then
        want=$NODE_SHA256
    else
        fetch "${NODE_DIST_URL}v$NODE_VERSION/SHASUMS256.txt" "$tmp/SHASUMS256.txt" ||
            fail "could not download ${NODE_DIST_URL}v$NODE_VERSION/SHASUMS256.txt to check $file"
        want=$(awk -v f="$file" '$2 == f { print $1 }' "$tmp/SHASUMS256.txt")
        [ -n "$want" ] || fail "${NODE_DIST_URL}v$NODE_VERSION/SHASUMS256.txt lists no $file"
    fi
    got=$(sha256sum "$tmp/$file" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        rm -rf "$tmp"
        fail "$file from $url has SHA-256 $got, expected $want: not installed"
    fi
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    (umask 022 && unpack "$tmp/$file" "$dir.partial")
    chmod 755 "$dir.partial"
    rm -rf "$tmp"
    [ "$("$dir.partial/bin/node" --version)" = "v$NODE_VERSION" ] || fail "the unpacked Node is not $NODE_VERSION"
    rm -rf "$dir"
    mv -T "$dir.partial" "$dir"
}

# The upstream part of a Debian version: 24.22.3 of 24.22.3-1nodesource1 (or of 1:24.22.3-2).
upstream_version() {
    local v=${1#*:}
    echo "${v%-*}"
}

# Whether the nodejs package is installed, at the upstream version pinned.
apt_node_installed() {
    [ "$(dpkg-query -W -f '${Status}' nodejs 2>/dev/null || true)" = "install ok installed" ] &&
        [ "$(upstream_version "$(dpkg-query -W -f '${Version}' nodejs)")" = "$NODE_VERSION" ]
}

# apt reads a signed-by keyring armoured only when its name ends in .asc; NodeSource's own
# instructions dearmor their key to nodesource.gpg. Hosts have gpgv but seldom gpg: the armour is
# base64 between its headers and its checksum line, which coreutils decode.
dearmor() {
    tr -d '\r' | awk '
        /^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { block = 1; body = 0; next }
        block && !body { if ($0 ~ /^[ \t]*$/) body = 1; next }
        block && /^(=|-----END)/ { block = 0; next }
        block { print }' | base64 -d
}

# apt-get as a step runs it: no questions, and waiting for another apt (a first boot's
# unattended-upgrades) rather than failing on its lock.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }

# apt's last words from log $1 to stderr, then what could not be done ($2, optional).
apt_failed() {
    tail -n 20 "$1" | sed 's/^/  /' >&2
    rm -f "$1"
    fail "could not install nodejs=$NODE_VERSION from $NODE_APT_SOURCE${2:+: $2}"
}

install_node_apt() {
    local keyring log offered exact v
    apt_node_installed && return 0
    say "installing Node $NODE_VERSION (nodejs) from the apt source $NODE_APT_SOURCE"
    keyring=$(sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' <<<"$NODE_APT_SOURCE")
    if [ -n "$NODE_APT_KEY" ]; then
        [ -n "$keyring" ] || fail "the apt source has no signed-by=PATH to write its key to: $NODE_APT_SOURCE"
        (umask 022 && mkdir -p "$(dirname "$keyring")")
        case $keyring in
            *.asc) (umask 022 && printf '%s\n' "$NODE_APT_KEY" >"$keyring.new") ;;
            *) (umask 022 && dearmor <<<"$NODE_APT_KEY" >"$keyring.new") || rm -f "$keyring.new" ;;
        esac
        [ -s "$keyring.new" ] || fail "the apt key for $keyring is not an ASCII-armoured OpenPGP key"
        mv -f "$keyring.new" "$keyring"
    fi
    (umask 022 && printf '%s\n' "$NODE_APT_SOURCE" >/etc/apt/sources.list.d/openclaw-node.list)
    log=$(mktemp)
    # Every source, as the package's dependencies come from the distribution's. A source that
    # fails the update goes again: left there, it would fail every later update on the host.
    if ! apt_get update >"$log" 2>&1; then
        rm -f /etc/apt/sources.list.d/openclaw-node.list
        apt_failed "$log" "apt-get update failed"
    fi
    # NodeSource's versions carry a revision (24.22.3-1nodesource1): the newest the sources
    # offer whose upstream version is the one pinned, spelt exactly.
    offered=$(apt-cache madison nodejs 2>/dev/null | awk -F' [|] ' '{ print $2 }' || true)
    exact=
    for v in $offered; do
        if [ "$(upstream_version "$v")" = "$NODE_VERSION" ]; then
            exact=$v
            break
        fi
    done
    [ -n "$exact" ] ||
        apt_failed "$log" "no nodejs $NODE_VERSION among the versions the apt sources offer ($(echo ${offered:-none}))"
    apt_get install --allow-downgrades "nodejs=$exact" >"$log" 2>&1 || apt_failed "$log"
    rm -f "$log"
    apt_node_installed || fail "apt installed nodejs $exact, yet dpkg does not list nodejs $NODE_VERSION as installed"
    [ "$(/usr/bin/node --version 2>/dev/null)" = "v$NODE_VERSION" ] ||
        fail "nodejs $exact is installed, yet /usr/bin/node is not Node $NODE_VERSION"
}

# --- OpenClaw releases ----------------------------------------------------------------------------

npm_bin() { echo "${NODE_BIN%/node}/npm"; }
release_dir() { echo "$RELEASES/$1"; }
release_version() { helper version "$(release_dir "$1")" 2>/dev/null || true; }

# npm installs into a fresh prefix, moved into place only once complete: a directory under
# releases is always a whole release. npm runs no install scripts (npm 11 runs only approved
# ones, and they would run as root); OpenClaw's own lifecycle is completed below instead.
install_release() {
    local dir tmp log
    dir=$(release_dir "$VERSION")
    [ "$(release_version "$VERSION")" != "$VERSION" ] || return 0
    say "installing OpenClaw $VERSION from $NPM_REGISTRY"
    tmp=$(mktemp -d)
    log=$tmp/npm.log
    rm -rf "$dir.partial"
    if ! (umask 022 && PATH="${NODE_BIN%/node}:$PATH" "$(npm_bin)" install --prefix "$dir.partial" \
        --registry "$NPM_REGISTRY" --cache "$tmp/cache" --engine-strict --omit=dev --no-audit --no-fund \
        --ignore-scripts --no-update-notifier --loglevel=error "openclaw@$VERSION" >"$log" 2>&1); then
        tail -n 20 "$log" >&2
        rm -rf "$tmp" "$dir.partial"
        fail "npm could not install openclaw@$VERSION from $NPM_REGISTRY; nothing was changed"
    fi
    # Without its install scripts, OpenClaw completes its package lifecycle on its first run, in
    # its own package directory, which the service cannot write: run it here, before the release
    # is in place, as the service's user (the package's code never runs as root), on a copy that
    # user owns for that moment and root takes back after. HOME and the state are scratch.
    mkdir "$tmp/home"
    chmod 711 "$tmp"
    chown -R "$OC_USER:$OC_USER" "$dir.partial" "$tmp/home"
    if ! (umask 022 && cd "$tmp/home" && runuser -u "$OC_USER" -- env HOME="$tmp/home" \
        OPENCLAW_STATE_DIR="$tmp/home/state" PATH="${NODE_BIN%/node}:$PATH" \
        "$NODE_BIN" "$dir.partial/node_modules/openclaw/openclaw.mjs" --version >"$log" 2>&1); then
        tail -n 20 "$log" >&2
        rm -rf "$tmp" "$dir.partial"
        fail "openclaw@$VERSION could not complete its package lifecycle; nothing was changed"
    fi
    chown -hR root:root "$dir.partial"
    chmod -R go-w,ug-s "$dir.partial"
    [ ! -e "$dir.partial/node_modules/openclaw/.openclaw-lifecycle-pending" ] ||
        fail "openclaw@$VERSION still has its package lifecycle pending after its first run"
    rm -rf "$tmp"
    chmod 755 "$dir.partial"
    [ "$(helper version "$dir.partial")" = "$VERSION" ] || fail "npm installed another version than $VERSION"
    rm -rf "$dir"
    mv -T "$dir.partial" "$dir"
}

current_release() { basename "$(readlink "$CURRENT" 2>/dev/null || true)"; }

# Points `current` at release $1 in one rename. The release's time is when it last went into
# service: the newest are the ones prune keeps.
switch_release() {
    rm -rf "$CURRENT.new"
    ln -sfn "$(release_dir "$1")" "$CURRENT.new"
    mv -Tf "$CURRENT.new" "$CURRENT"
    touch "$(release_dir "$1")"
}

# --- Recovery points -------------------------------------------------------------------------------

# OpenClaw migrates its databases forward when it starts, and an older release refuses state a
# newer one wrote (exit 78). So whenever the version changes, the state as the release leaving
# service left it is copied, with the service stopped, to $RECOVERY/<that version>: the point a
# later downgrade to it, or a rollback after a failed upgrade, restores.
recovery_point() { echo "$RECOVERY/$1"; }

save_recovery_point() {
    local dest
    dest=$(recovery_point "$1")
    [ -d "$STATE_DIR" ] || return 0
    mkdir -p "$RECOVERY"
    chmod 700 "$RECOVERY"
    rm -rf "$dest.partial"
    cp -a --reflink=auto "$STATE_DIR" "$dest.partial"
    rm -rf "$dest"
    mv -T "$dest.partial" "$dest"
    # cp kept the state's own time; the recovery point's is when its version left service.
    touch "$dest"
    say "saved the state of OpenClaw $1 as its recovery point, $dest"
}

# Fails, while the gateway still runs, unless the filesystem that is to hold $2 has room for a
# copy of $1 and some to spare: a copy cut short by a full disk would leave the gateway stopped.
check_room() {
    local dir need state avail
    dir=$(dirname "$2")
    while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
    state=$(du -sk "$1" | cut -f1)
    # 16 MiB to spare: the config, the environment file and the journal write too.
    need=$((state + 16384))
    avail=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
    [ "$avail" -ge "$need" ] ||
        fail "not enough space for the recovery point: copying $1 to $2 needs $((need / 1024)) MiB (the state, $((state / 1024)) MiB, and 16 MiB to spare), and $dir has $((avail / 1024)) MiB free; nothing was changed. Free some space there, or keep fewer releases and recovery points (openclaw.keepReleases)"
}

# --- Leftovers and old releases --------------------------------------------------------------------

# What a step cut short (killed, or the host rebooted) left behind; each is a scratch copy.
remove_leftovers() {
    local d
    for d in "$NODE_ROOT" "$RELEASES" "$RECOVERY"; do
        if [ -d "$d" ]; then find "$d" -mindepth 1 -maxdepth 1 -name '*.partial' -exec rm -rf {} +; fi
    done
    rm -rf "$STATE_DIR.restoring" "$CURRENT.new" "$ENV_FILE.new" "$UNIT_PATH.new"
}

# The directories in $1 (versions), newest first, but $2.
by_age() {
    find "$1" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name '*.partial' ! -name "${2:-.}" -printf '%T@ %f\n' |
        sort -rn | cut -d' ' -f2
}

# Keeps KEEP_RELEASES releases, the one in service among them (it may be the oldest, after a
# downgrade), and as many recovery points, the newest of each; removes the others.
prune() {
    local current old
    current=$(current_release)
    if [ -d "$RELEASES" ]; then
        old=$(by_age "$RELEASES" "$current" | tail -n +"$KEEP_RELEASES")
        if [ -n "$old" ]; then
            (cd "$RELEASES" && xargs rm -rf <<<"$old")
            say "removed the releases $(sort -V <<<"$old" | paste -sd' ') (keeping the last $KEEP_RELEASES)"
        fi
    fi
    if [ -d "$RECOVERY" ]; then
        old=$(by_age "$RECOVERY" | tail -n +"$((KEEP_RELEASES + 1))")
        if [ -n "$old" ]; then
            (cd "$RECOVERY" && xargs rm -rf <<<"$old")
            say "removed the recovery points $(sort -V <<<"$old" | paste -sd' ') (keeping the last $KEEP_RELEASES)"
        fi
    fi
}

# Replaces the state with the recovery point of version $1; the service is stopped.
restore_recovery_point() {
    local src
    src=$(recovery_point "$1")
    rm -rf "$STATE_DIR.restoring"
    cp -a --reflink=auto "$src" "$STATE_DIR.restoring"
    rm -rf "$STATE_DIR"
    mv -T "$STATE_DIR.restoring" "$STATE_DIR"
}

# Whether release $1 declares an older database schema than release $2.
older_schema() { helper older-schema "$(release_dir "$1")" "$(release_dir "$2")"; }

# --- The service's files ---------------------------------------------------------------------------

# The hardening keeps its lock, its snapshot and the rollback.sh root runs (at boot, from UFW's
# hook, from its timers) in its state directory. Inside a directory the install step gives to
# the gateway's user, that user could rewrite them; inside one it copies, replaces or prunes,
# they could be removed. Refused either way round, by the paths as written and as they resolve.
check_hardening_apart() {
    local ours theirs d why relation
    for d in "$STATE_DIR" "$RECOVERY" "$(dirname "$RELEASES")"; do
        case $d in
            "$STATE_DIR") why="which the install step gives to the gateway's user, $OC_USER: it could rewrite the rollback root runs" ;;
            "$RECOVERY") why="where the install step copies, replaces and removes recovery points" ;;
            *) why="where the install step replaces and removes OpenClaw's releases" ;;
        esac
        for theirs in "$HARDENING_STATE_DIR" "$(realpath -m "$HARDENING_STATE_DIR")"; do
            for ours in "$d" "$(realpath -m "$d")"; do
                if [ "$theirs" = "$ours" ]; then
                    relation=is
                elif [ "${theirs#"$ours"/}" != "$theirs" ]; then
                    relation="is inside"
                elif [ "${ours#"$theirs"/}" != "$ours" ]; then
                    relation=holds
                else
                    continue
                fi
                fail "hardening.stateDir $HARDENING_STATE_DIR $relation $d, $why; nothing was changed. Choose a hardening.stateDir apart from OpenClaw's directories (the default, /var/lib/openclaw, is)"
            done
        done
    done
}

# The gateway's user, and its state directory, which only it may write. Checked first: nothing is
# chowned to a user, or in a directory, that would give the gateway more than its own.
ensure_user() {
    local uid shell others
    check_hardening_apart
    if id -u "$OC_USER" >/dev/null 2>&1; then
        uid=$(id -u "$OC_USER")
        shell=$(getent passwd "$OC_USER" | cut -d: -f7)
        [ "$uid" -lt 1000 ] && [ "$uid" -ne 0 ] && case $shell in */nologin | */false) true ;; *) false ;; esac ||
            fail "the existing user $OC_USER (uid $uid, shell $shell) is not a system account without a login: the gateway would run as it"
        # systemd gives the service every group of its user: docker's is as good as root's.
        others=$(id -Gn "$OC_USER" | tr ' ' '\n' | awk -v me="$OC_USER" '$0 != me' | paste -sd' ')
        [ -z "$others" ] ||
            fail "the existing user $OC_USER is in the groups $others besides its own: the gateway would run with their rights (docker's are root's); take it out of them (sudo gpasswd -d $OC_USER GROUP), or remove the user, and run the step again"
    fi
    id -u "$OC_USER" >/dev/null 2>&1 ||
        useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin \
            --comment "OpenClaw gateway" "$OC_USER"
    mkdir -p "$STATE_DIR"
    chown "$OC_USER:$OC_USER" "$STATE_DIR"
    chmod 700 "$STATE_DIR"
}

# `NAME="value"` as systemd's EnvironmentFile reads it: inside double quotes, a backslash
# makes \ " $ and ` literal. Builtins only: the value is never an argument of a process.
env_line() {
    local value=$2
    case $value in *$'\n'* | *$'\r'*) fail "the value for $1 contains a line break" ;; esac
    value=${value//\\/\\\\}
    value=${value//\"/\\\"}
    value=${value//\$/\\\$}
    value=${value//\`/\\\`}
    printf '%s="%s"\n' "$1" "$value"
}

env_file_content() {
    env_line OPENCLAW_GATEWAY_TOKEN "$SECRET_GATEWAY_TOKEN"
    [ -z "${SECRET_ANTHROPIC_API_KEY:-}" ] || env_line ANTHROPIC_API_KEY "$SECRET_ANTHROPIC_API_KEY"
    [ -z "${SECRET_OPENAI_API_KEY:-}" ] || env_line OPENAI_API_KEY "$SECRET_OPENAI_API_KEY"
    [ "$MDNS" = yes ] || printf 'OPENCLAW_DISABLE_BONJOUR=1\n'
}

# Writes the 0600 root environment file when its content differs; prints changed or unchanged.
write_env_file() {
    local want tmp
    want=$(env_file_content)
    if [ -f "$ENV_FILE" ] && [ "$want" = "$(<"$ENV_FILE")" ] && [ "$(stat -c '%a %U' "$ENV_FILE")" = "600 root" ]; then
        echo unchanged
        return 0
    fi
    mkdir -p "$(dirname "$ENV_FILE")"
    chmod 700 "$(dirname "$ENV_FILE")"
    tmp=$ENV_FILE.new
    rm -f "$tmp"
    printf '%s\n' "$want" >"$tmp"
    chmod 600 "$tmp"
    chown root:root "$tmp"
    mv -f "$tmp" "$ENV_FILE"
    echo changed
}

write_config() {
    local result
    result=$(helper_as_user config "$CONFIG_FILE" "$PORT" "$BIND" "$HTTPS_ORIGIN") || fail "could not write $CONFIG_FILE"
    echo "$result"
}

write_unit() {
    if [ -f "$UNIT_PATH" ] && [ "$(<"$UNIT_PATH")" = "$UNIT_TEXT" ]; then
        echo unchanged
        return 0
    fi
    (umask 022 && printf '%s\n' "$UNIT_TEXT" >"$UNIT_PATH.new")
    mv -f "$UNIT_PATH.new" "$UNIT_PATH"
    echo changed
}

# --- The service -----------------------------------------------------------------------------------

# The gateway's /healthz on port $1, by default the one it is given now.
health_url() { echo "http://127.0.0.1:${1:-$PORT}/healthz"; }

restarts() { systemctl show -p NRestarts --value "$UNIT_NAME"; }

# Waits until /healthz answers (the gateway takes 15 to 30 s to start), or the unit gave up:
# failed, or restarted by systemd three times since it counted $1 restarts (a crash loop). $2:
# the port, by default the one it is given now.
wait_healthy() {
    local deadline=$((SECONDS + HEALTH_TIMEOUT)) base=${1:-$(restarts)}
    while [ "$SECONDS" -lt "$deadline" ]; do
        helper health "$(health_url "${2:-}")" 2000 >/dev/null 2>&1 && return 0
        [ "$(systemctl show -p ActiveState --value "$UNIT_NAME")" != failed ] || return 1
        [ "$(($(restarts) - base))" -lt 3 ] || return 1
        sleep 2
    done
    return 1
}

restart_service() {
    systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null || systemctl enable --quiet "$UNIT_NAME"
    systemctl reset-failed "$UNIT_NAME" 2>/dev/null || true
    systemctl restart "$UNIT_NAME"
}

# The unit's last lines in the journal, for a failure message (the gateway logs no secrets).
# Each secret the step holds is masked, with builtins, before anything is printed: the step's
# output lands in Pulumi's log and error messages.
service_journal() {
    local line secret
    while IFS= read -r line; do
        for secret in "${SECRET_GATEWAY_TOKEN:-}" "${SECRET_ANTHROPIC_API_KEY:-}" "${SECRET_OPENAI_API_KEY:-}"; do
            [ -z "$secret" ] || line=${line//"$secret"/[secret]}
        done
        printf '  %s\n' "$line"
    done < <(journalctl -u "$UNIT_NAME" -n 15 --no-pager -q -o cat 2>/dev/null || true)
}

# --- Going back ------------------------------------------------------------------------------------
#
# Before the install step changes anything the running gateway depends on, it keeps in $KEPT
# (root, 0700) what going back needs: the release in service, and copies of the environment file,
# config and unit. From then on any end but success (a command or the health check failing, a full
# disk, the session dropping) runs put_back from the EXIT trap. A record on disk, not variables:
# bash 5.2 unwinds a function's locals before the EXIT trap runs.

# Copies root's file $1 to $KEPT/$2, or records that there was none.
keep_file() {
    if [ -f "$1" ]; then cp -p "$1" "$KEPT/$2"; else touch "$KEPT/$2.absent"; fi
}

keep_previous() {
    rm -rf "$KEPT"
    mkdir -p "$RECOVERY"
    chmod 700 "$RECOVERY"
    mkdir -m 700 "$KEPT"
    printf '%s\n' "$1" >"$KEPT/release"
    keep_file "$ENV_FILE" gateway.env
    keep_file "$UNIT_PATH" unit
    # Read as the service's user: root must not follow the links that user can plant.
    if runuser -u "$OC_USER" -- test -f "$CONFIG_FILE"; then
        runuser -u "$OC_USER" -- cat "$CONFIG_FILE" >"$KEPT/openclaw.json"
    else
        touch "$KEPT/openclaw.json.absent"
    fi
}

# Records in $KEPT, when the step keeps one, that $1 happened (state-changed: the state may no
# longer be what the previous release left; why: what failed).
mark() { if [ -d "$KEPT" ]; then printf '%s\n' "${2:-}" >"$KEPT/$1"; fi; }

# Puts root's file $1 back from $KEPT/$2; succeeds only when that changed something.
put_file() {
    if [ -e "$KEPT/$2.absent" ]; then
        [ -e "$1" ] || return 1
        rm -f "$1"
    else
        ! cmp -s "$KEPT/$2" "$1" || return 1
        cp -p "$KEPT/$2" "$1.new"
        mv -f "$1.new" "$1"
    fi
}

# The same for the config, as the service's user, in its own directory.
put_config() {
    if [ -e "$KEPT/openclaw.json.absent" ]; then
        runuser -u "$OC_USER" -- test -e "$CONFIG_FILE" || return 1
        runuser -u "$OC_USER" -- rm -f "$CONFIG_FILE"
    else
        ! runuser -u "$OC_USER" -- cat "$CONFIG_FILE" 2>/dev/null | cmp -s - "$KEPT/openclaw.json" || return 1
        helper_as_user put "$CONFIG_FILE" <"$KEPT/openclaw.json"
    fi
}

# Puts back the previous release (with its state from before the step, if the new one may have
# changed it), environment file, unit and config, and restarts the gateway when any of them was
# put back or it is not running. Fails when it does not become healthy.
put_back() {
    local previous port put=()
    previous=$(<"$KEPT/release")
    # The port the previous unit gave the gateway (this step's may be another).
    port=$(sed -n 's/^ExecStart=.* --port \([0-9][0-9]*\) .*/\1/p' "$KEPT/unit" 2>/dev/null || true)
    if [ "$(current_release)" != "$previous" ]; then
        systemctl stop "$UNIT_NAME" 2>/dev/null || true
        if [ -e "$KEPT/state-changed" ]; then
            restore_recovery_point "$previous"
            put+=("its state")
        fi
        switch_release "$previous"
        put+=("release")
    fi
    if put_file "$ENV_FILE" gateway.env; then put+=("environment file"); fi
    if put_file "$UNIT_PATH" unit; then
        put+=("unit")
        systemctl daemon-reload
    fi
    if put_config; then put+=("config"); fi
    remove_leftovers
    if [ ${#put[@]} -gt 0 ] || ! systemctl is-active --quiet "$UNIT_NAME"; then
        say "putting back OpenClaw $previous: $(list "(it was not running)" "${put[@]}"); restarting $UNIT_NAME"
        restart_service
        wait_healthy "$(restarts)" "$port" || return 1
    fi
    rm -rf "$KEPT"
}

# The EXIT trap while a change is under way: any end but success puts the previous release back
# and says so; $KEPT/why says what failed, when the step knew.
on_exit() {
    local status=$? why previous
    trap - EXIT
    # Going back must not be cut short by a dead session: its writes fail instead.
    trap '' HUP PIPE
    set +e
    if [ "$status" -eq 0 ] || [ ! -d "$KEPT" ]; then exit "$status"; fi
    why="the install step failed (exit $status)"
    if [ -f "$KEPT/why" ]; then why=$(<"$KEPT/why"); fi
    previous=$(<"$KEPT/release")
    if put_back; then
        printf 'openclaw: FAILED: %s; back on OpenClaw %s with its environment file, config and unit from before this step, which is healthy\n' "$why" "$previous" >&2
    else
        printf 'openclaw: FAILED: %s; OpenClaw %s, put back with its environment file, config and unit from before this step, does not answer either; its last lines:\n' "$why" "$previous" >&2
        service_journal >&2
    fi
    exit "$status"
}

# The session gone (SIGHUP, SIGPIPE) or the step stopped (SIGTERM, SIGINT): the rest is written to
# $STEP_LOG, since a write to a dead session raises SIGPIPE again; then the EXIT trap runs.
on_signal() {
    trap '' HUP PIPE
    exec >>"$STEP_LOG" 2>&1
    say "$(date -u +%FT%TZ): got SIG$1 (the session dropped, or the step was stopped)"
    mark why "the install step got SIG$1 (its session dropped, or it was stopped)"
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

# --- The steps -------------------------------------------------------------------------------------

# Whether release $1 is there, whole: one to go back to.
intact() { [ -n "$1" ] && [ "$(release_version "$1")" = "$1" ]; }

install_main() {
    local changed=() previous result base restore=no
    setup
    arm_signals
    [ -n "${SECRET_GATEWAY_TOKEN:-}" ] || fail "no gateway token was given to the install step"
    lock
    ensure_user
    # Code readable by the service's user, writable only by root.
    check_root_owned "$(dirname "$NODE_ROOT")" "$(dirname "$RELEASES")"
    (umask 022 && mkdir -p "$(dirname "$NODE_ROOT")" "$(dirname "$RELEASES")" "$NODE_ROOT" "$RELEASES")
    chmod 755 "$(dirname "$NODE_ROOT")" "$(dirname "$RELEASES")" "$NODE_ROOT" "$RELEASES"
    if [ -d "$KEPT" ]; then
        say "a step before this one was cut short (killed, or the host rebooted) before it could go back; discarding what it kept"
        rm -rf "$KEPT"
    fi
    remove_leftovers
    install_node
    install_release

    previous=$(current_release)
    if [ "$previous" != "$VERSION" ] && intact "$previous" && older_schema "$VERSION" "$previous"; then
        [ -d "$(recovery_point "$VERSION")" ] ||
            fail "OpenClaw $VERSION cannot read the state OpenClaw $previous migrated (older database schema), and there is no recovery point of $VERSION to go back to; nothing was changed. See https://docs.openclaw.ai/install/updating/rollback-and-recovery"
        restore=yes
    fi
    # What could fail once the service is stopped is checked while it still runs.
    [ ! -e "$CONFIG_FILE" ] || helper_as_user config-check "$CONFIG_FILE" ||
        fail "$CONFIG_FILE cannot be updated (above); nothing was changed"
    if intact "$previous"; then
        if [ "$previous" != "$VERSION" ]; then
            check_room "$STATE_DIR" "$(recovery_point "$previous")"
            [ "$restore" = no ] || check_room "$(recovery_point "$VERSION")" "$STATE_DIR.restoring"
        fi
        keep_previous "$previous"
        trap on_exit EXIT
    fi
    if [ "$previous" != "$VERSION" ]; then
        changed+=("version ${previous:-none} -> $VERSION")
        if [ -n "$previous" ]; then
            systemctl stop "$UNIT_NAME" 2>/dev/null || true
            save_recovery_point "$previous"
        fi
        if [ "$restore" = yes ]; then
            mark state-changed
            restore_recovery_point "$VERSION"
            say "downgrade: OpenClaw $VERSION cannot read the state $previous migrated; restored the state saved when $VERSION left service (what changed since is kept in $(recovery_point "$previous"))"
        fi
        switch_release "$VERSION"
    fi
    result=$(write_env_file)
    [ "$result" = unchanged ] || changed+=("environment file")
    result=$(write_config)
    [ "$result" = unchanged ] || changed+=("config")
    result=$(write_unit)
    if [ "$result" != unchanged ]; then
        changed+=("unit")
        systemctl daemon-reload
    fi

    if [ ${#changed[@]} -eq 0 ] && systemctl is-active --quiet "$UNIT_NAME"; then
        say "no changes: OpenClaw $VERSION is running"
    else
        say "changed: $(list "service not running" "${changed[@]}"); restarting $UNIT_NAME"
        # A new release migrates the state as it starts.
        [ "$previous" = "$VERSION" ] || mark state-changed
        restart_service
        # Read after the restart: reset-failed (in restart_service) clears the count.
        base=$(restarts)
    fi
    if ! wait_healthy "${base:-}"; then
        say "OpenClaw $VERSION did not become healthy ($(health_url), up to ${HEALTH_TIMEOUT}s); its last lines:"
        service_journal
        if [ -d "$KEPT" ] && [ ${#changed[@]} -gt 0 ]; then
            if [ "$previous" != "$VERSION" ]; then
                mark why "OpenClaw $VERSION failed its health check"
            else
                mark why "OpenClaw $VERSION with the new $(list - "${changed[@]}") failed its health check"
            fi
            exit 1
        fi
        # Nothing was changed that putting back could undo.
        trap - EXIT
        rm -rf "$KEPT"
        fail "OpenClaw $VERSION failed its health check"
    fi
    trap - EXIT
    rm -rf "$KEPT"
    prune
    say "healthy: $(health_url)"
    echo "openclaw-version: $(release_version "$(current_release)")"
}

# Prints each listener on the gateway's port, one local address:port per line.
listeners() { ss -ltnH "sport = :$PORT" | awk '{ print $4 }' | sort -u; }

# Runs `openclaw security audit --json` as the service's user, with its environment file and
# environment, in a transient unit: exactly what the gateway itself sees.
run_audit() {
    local props=() line
    while IFS= read -r line; do [ -z "$line" ] || props+=(-p "Environment=$line"); done <<<"$SERVICE_ENV"
    systemd-run --quiet --pipe --wait --collect -p "User=$OC_USER" -p "Group=$OC_USER" \
        -p "EnvironmentFile=$ENV_FILE" -p "WorkingDirectory=$STATE_DIR" -p PrivateTmp=yes "${props[@]}" \
        "$NODE_BIN" "$CURRENT/node_modules/openclaw/openclaw.mjs" security audit --json 2>"$1"
}

verify_main() {
    local problems=() addrs addr report errors
    setup
    lock
    systemctl is-active --quiet "$UNIT_NAME" || problems+=("$UNIT_NAME is not active ($(systemctl show -p ActiveState --value "$UNIT_NAME"))")
    systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null || problems+=("$UNIT_NAME is not enabled: it would not start at boot")
    helper health "$(health_url)" 5000 >/dev/null 2>&1 || problems+=("$(health_url) does not answer")
    [ "$(stat -c '%a %U' "$ENV_FILE" 2>/dev/null)" = "600 root" ] || problems+=("$ENV_FILE is not mode 0600, owned by root")
    [ "$(stat -c '%a %U' "$STATE_DIR" 2>/dev/null)" = "700 $OC_USER" ] || problems+=("$STATE_DIR is not mode 0700, owned by $OC_USER")
    [ "$(stat -c '%a %U' "$CONFIG_FILE" 2>/dev/null)" = "600 $OC_USER" ] || problems+=("$CONFIG_FILE is not mode 0600, owned by $OC_USER")

    addrs=$(listeners)
    if [ -z "$addrs" ]; then
        problems+=("nothing listens on TCP port $PORT")
    elif [ "$BIND" = loopback ]; then
        while IFS= read -r addr; do
            case $addr in 127.*:"$PORT" | "[::1]:$PORT") ;; *) problems+=("the gateway is bound to loopback, yet $addr listens on port $PORT") ;; esac
        done <<<"$addrs"
    else
        # OpenClaw's lan bind is 0.0.0.0: every IPv4 interface; it has no IPv6 wildcard bind.
        grep -qxE "(0\.0\.0\.0|\*|\[::\]):$PORT" <<<"$addrs" ||
            problems+=("the gateway should listen on every interface (lan), yet port $PORT listens only on: $(paste -sd' ' <<<"$addrs")")
    fi
    say "listening on port $PORT: $(paste -sd' ' <<<"$addrs")"

    errors=$(mktemp)
    report=$(run_audit "$errors") || true
    if ! helper audit "$HTTPS_AUDIT_CHECKS" <<<"$report"; then
        [ -n "$report" ] || tail -n 5 "$errors" | sed 's/^/  /'
        problems+=("openclaw security audit found critical problems${HTTPS_ORIGIN:+, or problems with the proxy, origins or auth,} or could not run (above)")
    fi
    rm -f "$errors"
    if [ ${#problems[@]} -gt 0 ]; then
        printf 'openclaw: FAILED: %s\n' "${problems[@]}" >&2
        exit 1
    fi
    say "verified: OpenClaw $(release_version "$(current_release)") healthy on $(health_url), bind $BIND"
}

# Stops and removes the service, the releases, the Node this step installed and the environment
# file. The state directory (config, sessions, workspace) and the user stay: they are the
# operator's data, and a later install picks them up again.
remove_main() {
    setup
    lock
    if [ -f "$UNIT_PATH" ]; then
        systemctl disable --now --quiet "$UNIT_NAME" 2>/dev/null || systemctl stop "$UNIT_NAME" || true
        rm -f "$UNIT_PATH"
        systemctl daemon-reload
        systemctl reset-failed "$UNIT_NAME" 2>/dev/null || true
    fi
    rm -rf "$CURRENT" "$RELEASES" "$NODE_ROOT" "$ENV_FILE" /etc/apt/sources.list.d/openclaw-node.list
    rmdir "$(dirname "$ENV_FILE")" /opt/openclaw 2>/dev/null || true
    if [ "$NODE_KIND" = apt ]; then
        say "removed $UNIT_NAME, its releases, $ENV_FILE and the apt source of Node"
        say "kept the nodejs package (other software may use it); remove it with: sudo apt-get remove nodejs"
    else
        say "removed $UNIT_NAME, its releases, Node and $ENV_FILE"
    fi
    say "kept $STATE_DIR (config, sessions, workspace), its recovery points in $RECOVERY and the user $OC_USER; remove them with: sudo rm -rf $STATE_DIR $RECOVERY && sudo userdel $OC_USER"
}
