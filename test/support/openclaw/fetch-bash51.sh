#!/usr/bin/env bash
# Bash 5.1, as Ubuntu 22.04 and Debian 11 ship it, for the test that runs OpenClaw's scripts under
# it (test/unit/openclawScript.test.ts): Debian 11's bash package, its digest pinned, unpacked
# with dpkg -x into a cache directory (not installed). Prints the cache directory. Run by .ci/run;
# by hand: sudo bash test/support/openclaw/fetch-bash51.sh
set -euo pipefail
# Plain HTTP, as apt fetches it: the pinned SHA-256 is what is trusted.
DEB_URL=http://deb.debian.org/debian/pool/main/b/bash/bash_5.1-2+deb11u1_amd64.deb
DEB_SHA256=f702ef058e762d7208a9c83f6f6bbf02645533bfd615c54e8cdcce842cd57377
CACHE=${OPENCLAW_BASH51_CACHE:-/var/cache/openclaw-bash51}

fetch_bash51() {
    local tmp
    if [ -x "$CACHE/root/bin/bash" ] && [ "$(cat "$CACHE/deb.sha256" 2>/dev/null)" = "$DEB_SHA256" ]; then
        echo "$CACHE"
        return 0
    fi
    [ "$(uname -m)" = x86_64 ] || {
        echo "fetch-bash51: only amd64 is pinned, not $(uname -m)" >&2
        exit 1
    }
    tmp=$(mktemp -d)
    curl -fsS --retry 3 -o "$tmp/bash.deb" "$DEB_URL"
    echo "$DEB_SHA256  $tmp/bash.deb" | sha256sum -c --quiet -
    dpkg -x "$tmp/bash.deb" "$tmp/root"
    rm -rf "$CACHE"
    mkdir -p "$(dirname "$CACHE")"
    mv "$tmp" "$CACHE"
    rm -f "$CACHE/bash.deb"
    echo "$DEB_SHA256" >"$CACHE/deb.sha256"
    echo "$CACHE"
}

fetch_bash51
