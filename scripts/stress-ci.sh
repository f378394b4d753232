#!/usr/bin/env bash
# `npm run test:stress`: the whole CI (bash .ci/run, as CI runs it) from a fresh clone of HEAD,
# RUNS times in a row (default 3), each while a CPU hog keeps one core busy, to show that no
# verdict flips under load. Prints each run's time, tests and void probe rounds, and keeps each
# run's log. As root, like CI; what it clones is the committed HEAD, not the working tree.
#
#   sudo npm run test:stress                 RUNS=N, STRESS_DIR=DIR (default /tmp/openclaw-stress)
#
# The clone and the logs live under the temporary directory: the booted-host proof that nothing
# is written on the machine watches its system directories (/var among them) and skips /tmp.
set -euo pipefail

runs=${RUNS:-3}
out=${STRESS_DIR:-/tmp/openclaw-stress}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse --short HEAD)
hog=""
clone=""

say() { printf 'stress: %s\n' "$*"; }

stop_hog() { [ -z "$hog" ] || kill -- -"$hog" 2>/dev/null || true; hog=""; }

cleanup() {
    stop_hog
    [ -z "$clone" ] || rm -rf "$clone"
}

# One core busy for as long as the run lasts, in its own session so it goes as a group.
start_hog() {
    setsid bash -c 'while :; do :; done' &
    hog=$!
}

# The runner's summary lines: tests, time, load; probe rounds and void ones.
summary_of() { grep -E '^# ([0-9]+ tests in|probe rounds:)' "$1" | sed 's/^# //' | paste -sd ';' -; }

one_run() {
    local n=$1 log started seconds status
    log="$out/run-$n.log"
    clone=$(mktemp -d "$out/clone.XXXXXX")
    git clone -q "$repo" "$clone"
    git -C "$clone" checkout -q "$commit"
    start_hog
    started=$(date +%s)
    status=0
    (cd "$clone" && CI=true bash .ci/run) >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - started))
    stop_hog
    rm -rf "$clone"
    clone=""
    say "run $n of $runs at $commit: exit $status in $((seconds / 60)) min $((seconds % 60)) s; $(summary_of "$log"); log $log"
    return "$status"
}

main() {
    [ "$(id -u)" -eq 0 ] || { say "run it as root, as CI does"; exit 2; }
    mkdir -p "$out"
    trap cleanup EXIT
    say "$runs runs of bash .ci/run at $commit, each beside a busy loop on one of $(nproc) cores"
    local n failed=0
    for n in $(seq 1 "$runs"); do one_run "$n" || failed=$((failed + 1)); done
    [ "$failed" -eq 0 ] || { say "$failed of $runs runs failed"; exit 1; }
    say "all $runs runs passed"
}

main "$@"
