# The host side of `npm run blocks`: prints the lines UFW logged for blocked packets since
# $SINCE, from UFW's log file and its rotations or, on a host without one, from the journal.
#
# components/blocks/script.ts renders it as: a header that sets SINCE (`<n>h`, `<n>d` or a
# date `date -d` reads) and UFW_LOG, then this file, then `blocks_main`. It only reads.
#
# Output: `#openclaw key=value` lines (now, since, logging, source), then the log lines.

blocks_fail() {
    printf 'openclaw: FAILED: %s\n' "$*" >&2
    exit 1
}

blocks_since_epoch() {
    local now=$1
    case $SINCE in
        *h) echo $((now - ${SINCE%h} * 3600)) ;;
        *d) echo $((now - ${SINCE%d} * 86400)) ;;
        *) date -d "$SINCE" +%s || blocks_fail "the host's date cannot read --since $SINCE" ;;
    esac
}

# Blocks only (UFW also logs ALLOW and AUDIT lines at higher levels): the rest stays on the host.
blocks_filter() { awk '/\[UFW (LIMIT )?BLOCK\]/'; }

blocks_main() {
    set -euo pipefail
    export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    local now since dir base files=() f
    now=$(date +%s)
    since=$(blocks_since_epoch "$now")
    printf '#openclaw now=%s\n' "$(date -d "@$now" +%Y-%m-%dT%H:%M:%S%:z)"
    printf '#openclaw since=%s\n' "$(date -d "@$since" +%Y-%m-%dT%H:%M:%S)"
    printf '#openclaw logging=%s\n' "$(sed -n 's/^LOGLEVEL=//p' /etc/ufw/ufw.conf 2>/dev/null || true)"
    if [ -e "$UFW_LOG" ]; then
        dir=$(dirname "$UFW_LOG")
        base=$(basename "$UFW_LOG")
        # logrotate's names (ufw.log.1, ufw.log.2.gz, ...), oldest first. A rotation last
        # written before the window began holds nothing in it, so it is not read at all.
        mapfile -t files < <(find "$dir" -maxdepth 1 -type f \( -name "$base" -o -name "$base.[0-9]*" \) \
            -newermt "@$since" | sort -V -r)
        [ ${#files[@]} -eq 0 ] || printf '#openclaw source=%s\n' "${files[@]}"
        for f in "${files[@]}"; do zcat -f -- "$f"; done | blocks_filter
    elif command -v journalctl >/dev/null 2>&1; then
        # Debian 12 without rsyslog keeps kernel messages only in the journal. _TRANSPORT=kernel
        # rather than -k, which stops at the last boot.
        printf '#openclaw source=journal\n'
        journalctl _TRANSPORT=kernel --since "@$since" -o short-iso --no-pager -q | blocks_filter
    else
        blocks_fail "neither $UFW_LOG nor journalctl is on this host: where does its syslog write kernel messages?"
    fi
}
