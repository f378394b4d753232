#!/usr/bin/env bash
# Builds, once, the root filesystems the booted-host tests copy for each host (bootedHost.ts):
# a minimal Debian with systemd, journald, sshd and sudo, made like a cloud image (a non-root
# login user with passwordless sudo, root by key only, no password logins). Two variants:
#   $CACHE/ufw      with ufw installed, as the cloud images ship it
#   $CACHE/noufw    without it, to prove that the hardening installs it
#   $CACHE/debs     ufw and the packages it needs that noufw lacks: the tests' local repository
# $CACHE is /var/cache/openclaw-booted/SUITE-KEY (OPENCLAW_BOOTED_CACHE overrides the root), KEY a hash of this script (its package list
# and every build step), so a changed build gets a new directory and a cached one is reused.
# Prints $CACHE. Needs root, debootstrap and systemd-nspawn, and the Debian archive (only here:
# the tests themselves never reach the network).
set -euo pipefail

SUITE=${1:-bookworm}
MIRROR=${OPENCLAW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# curl, xz-utils and ca-certificates as the cloud images ship them: OpenClaw's install fetches
# and unpacks Node's official tarball with them.
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2,iptables,python3,netcat-openbsd,procps,curl,xz-utils,ca-certificates
LOGIN_USER=admin

key=$( (
    echo "$SUITE"
    cat "$0"
) | sha256sum | cut -c1-12)
# OPENCLAW_BOOTED_CACHE moves the cache, e.g. to build a changed image beside one in use.
ROOT=${OPENCLAW_BOOTED_CACHE:-/var/cache/openclaw-booted}
CACHE=$ROOT/$SUITE-$key
if [ -f "$CACHE/complete" ]; then
    echo "$CACHE"
    exit 0
fi

mkdir -p "$ROOT"
# One build at a time; a second caller waits and then finds the cache complete.
exec 8>"$ROOT/.lock"
flock 8
if [ -f "$CACHE/complete" ]; then
    echo "$CACHE"
    exit 0
fi
work=$(mktemp -d "$ROOT/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs a command inside a root filesystem, not booted (the machine's network, for apt).
inside() {
    local dir=$1
    shift
    systemd-nspawn -q --register=no --keep-unit -D "$dir" --pipe -E DEBIAN_FRONTEND=noninteractive "$@"
}

base=$work/noufw
echo "booted-image: debootstrap $SUITE (a few minutes)" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$base" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    {
        tail -20 "$work/debootstrap.log" >&2
        exit 1
    }

# Nothing starts while packages are installed into the image.
printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
chmod 755 "$base/usr/sbin/policy-rc.d"
inside "$base" /bin/sh -ec "
    useradd --create-home --shell /bin/bash $LOGIN_USER
    echo '$LOGIN_USER ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/90-cloud-users
    chmod 440 /etc/sudoers.d/90-cloud-users
    passwd -l root >/dev/null
    apt-get clean
    apt-get update -q >/dev/null
    apt-get install -y -q --download-only --no-install-recommends ufw >/dev/null
"
mkdir "$work/debs"
mv "$base"/var/cache/apt/archives/*.deb "$work/debs/"

# Like a cloud image: keys only, root by key, a persistent journal, a machine id and SSH host
# keys made at first boot (bootedHost.ts writes each copy's host key and authorized keys).
cat >"$base/etc/ssh/sshd_config.d/50-cloud-init.conf" <<'EOF'
PasswordAuthentication no
PermitRootLogin prohibit-password
EOF
rm -f "$base"/etc/ssh/ssh_host_*
echo "HostKey /etc/ssh/ssh_host_ed25519_key" >"$base/etc/ssh/sshd_config.d/10-host-key.conf"
mkdir -p "$base/var/log/journal"
: >"$base/etc/machine-id"
echo booted >"$base/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 booted\n::1 localhost\n' >"$base/etc/hosts"
# No console login prompt: the tests boot without a terminal.
ln -sf /dev/null "$base/etc/systemd/system/console-getty.service"
rm -rf "$base"/var/lib/apt/lists/* "$base"/var/cache/apt/*.bin

cp -a "$base" "$work/ufw"
# Not /tmp: systemd-nspawn mounts a fresh one.
mkdir "$work/ufw/root/debs"
cp "$work"/debs/*.deb "$work/ufw/root/debs/"
inside "$work/ufw" /bin/sh -ec 'dpkg -i /root/debs/*.deb >/dev/null 2>&1 && rm -r /root/debs'
rm "$base/usr/sbin/policy-rc.d" "$work/ufw/usr/sbin/policy-rc.d"

mkdir -p "$CACHE"
mv "$work/noufw" "$work/ufw" "$work/debs" "$CACHE/"
echo "$SUITE $PACKAGES +ufw, built $(date -u +%FT%TZ)" >"$CACHE/complete"
# Older builds of this script are no longer used.
for old in "$ROOT/$SUITE"-*; do
    [ "$old" = "$CACHE" ] || rm -rf "$old"
done
echo "$CACHE"
