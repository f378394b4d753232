#!/usr/bin/env bash
# Builds, once, the signed apt repository the HTTPS tests install Caddy from on a booted host:
# Debian's own caddy .deb and the dependencies the booted image lacks, downloaded on this machine
# (the same suite as the image), indexed, and a Release signed by a throwaway key made for this
# build. Laid out as `deb [signed-by=…] <base> ./`: Packages and Release at the top.
#   usage: build-caddy-apt.sh <the image's dpkg status file>
# Prints the cache directory: $ROOT/KEY/{repo/,key.asc,other-key.asc}, ROOT /var/cache/openclaw-caddy-apt
# (OPENCLAW_CADDY_APT_CACHE overrides it), KEY a hash of this script and of the packages' own
# SHA-256 as apt's index gives them: a new caddy or libnss3 in Debian makes a new build, an
# unchanged one is reused. Needs Debian's apt sources (only here: the tests never reach them).
set -euo pipefail

status_file=$1
root=${OPENCLAW_CADDY_APT_CACHE:-/var/cache/openclaw-caddy-apt}
log() { echo "caddy-apt: $*" >&2; }

# What apt would install on the image for caddy: the image's own dpkg status against this
# machine's package lists, so the repository holds exactly what the host lacks.
packages() {
    apt-get install --simulate --no-install-recommends -o Dir::State::status="$status_file" caddy |
        awk '$1 == "Inst" { print $2 }' | sort
}

# Each package's name, version and SHA-256 from apt's index: the content the build will hold.
identity() {
    local name
    for name in "$@"; do
        apt-cache show --no-all-versions "$name" | grep -E '^(Package|Version|SHA256):'
    done
}

build() {
    local cache=$1
    shift
    local work
    work=$(mktemp -d "$root/.build-XXXXXX")
    # The throwaway keyring's agent is stopped and the half-made build removed, however this ends.
    trap 'gpgconf --homedir "$work/gnupg" --kill all 2>/dev/null || true; rm -rf "$work"' EXIT
    mkdir -p "$work/repo" "$work/gnupg"
    chmod 755 "$work"
    chmod 700 "$work/gnupg"
    log "downloading $*"
    # apt's own user cannot write into root's build directory.
    (cd "$work/repo" && apt-get -q -o APT::Sandbox::User=root download "$@" >&2)
    # apt-get download spells an epoch's colon %3a in the file name, which a URL would read as
    # an escape: named as Debian's pool names them, without the epoch.
    local deb
    for deb in "$work"/repo/*%3a*.deb; do
        [ -e "$deb" ] && mv "$deb" "$(echo "$deb" | sed -E 's/_[0-9]+%3a/_/')"
    done
    (cd "$work/repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages)
    gzip -9nk "$work/repo/Packages"
    release "$work/repo"
    sign "$work"
    prove "$work"
    mv "$work" "$cache"
    trap - EXIT
    gpgconf --homedir "$cache/gnupg" --kill all 2>/dev/null || true
    rm -rf "$cache/gnupg"
    log "built $cache"
}

release() {
    local repo=$1 f
    {
        echo "Origin: openclaw-server tests"
        echo "Label: caddy for the booted hosts"
        echo "Date: $(date -Ru)"
        echo "SHA256:"
        for f in Packages Packages.gz; do
            printf ' %s %s %s\n' "$(sha256sum <"$repo/$f" | cut -d' ' -f1)" "$(stat -c %s "$repo/$f")" "$f"
        done
    } >"$repo/Release"
}

sign() {
    local work=$1 name
    local g=(gpg --batch --quiet --no-tty --homedir "$work/gnupg")
    for name in caddy-apt other-key; do
        "${g[@]}" --passphrase '' --quick-generate-key "$name <$name@openclaw-server.invalid>" ed25519 sign never
    done
    "${g[@]}" --yes --local-user caddy-apt@openclaw-server.invalid --digest-algo SHA512 \
        --clearsign -o "$work/repo/InRelease" "$work/repo/Release"
    "${g[@]}" --yes --local-user caddy-apt@openclaw-server.invalid --digest-algo SHA512 \
        --armor --detach-sign -o "$work/repo/Release.gpg" "$work/repo/Release"
    "${g[@]}" --armor --export caddy-apt@openclaw-server.invalid >"$work/key.asc"
    "${g[@]}" --armor --export other-key@openclaw-server.invalid >"$work/other-key.asc"
}

# gpgv takes both signatures with the key, and refuses them with the other one.
prove() {
    local work=$1
    gpg --batch --quiet --dearmor <"$work/key.asc" >"$work/key.gpg"
    gpg --batch --quiet --dearmor <"$work/other-key.asc" >"$work/other-key.gpg"
    gpgv --keyring "$work/key.gpg" "$work/repo/InRelease" 2>/dev/null
    gpgv --keyring "$work/key.gpg" "$work/repo/Release.gpg" "$work/repo/Release" 2>/dev/null
    if gpgv --keyring "$work/other-key.gpg" "$work/repo/InRelease" 2>/dev/null; then
        echo "caddy-apt: the repository verifies with a key that did not sign it" >&2
        exit 1
    fi
    rm -f "$work/key.gpg" "$work/other-key.gpg"
}

main() {
    local wanted key cache
    mapfile -t wanted < <(packages)
    [ "${#wanted[@]}" -gt 0 ] || {
        echo "caddy-apt: apt would install nothing for caddy on the image; is its status file right? ($status_file)" >&2
        exit 1
    }
    key=$({ cat "$0"; identity "${wanted[@]}"; } | sha256sum | cut -c1-12)
    cache=$root/$key
    mkdir -p "$root"
    # One build at a time; a second caller waits, then finds it built.
    exec 9>"$root/.lock"
    flock 9
    if [ ! -e "$cache/key.asc" ]; then
        rm -rf "$root"/.build-*
        build "$cache" "${wanted[@]}"
        # Older builds are no longer used.
        find "$root" -mindepth 1 -maxdepth 1 ! -name "$key" ! -name '.lock' -exec rm -rf {} +
    fi
    echo "$cache"
}

main
