# Runs many ufw commands in one process, through the same parse_command and do_action calls
# the ufw command makes for each invocation (see /usr/sbin/ufw): one Python start instead of
# one per command, which is most of the 0.13 s each `ufw` call costs.
#
# argv[1]: the ufw executable, which ufw's own checks expect as argv[0].
# stdin: one command per line, as typed after `ufw`, e.g. "allow 22/tcp comment 'openclaw:ssh'",
# "delete allow 22/tcp comment 'openclaw:ssh'", "logging medium", "--force enable".
import gettext
import shlex
import sys

import ufw.common
import ufw.frontend
from ufw.common import UFWError
from ufw.util import create_lock, release_lock

gettext.install(ufw.common.programName)


def batch_writes(backend):
    """ufw re-normalises every existing rule and rewrites its rules file on each rule change,
    which makes n changes cost O(n^2). On an inactive firewall, where nothing reads the files
    until `enable`, normalise each rule once and write each touched file once. The host tests
    check the result is byte-identical to one ufw call per rule. Returns the deferred writer."""
    if backend.is_enabled():
        # A live firewall can reload its user chains from the files mid-batch: write as ufw does.
        return lambda: None
    try:
        real_write = backend._write_rules
        normalize = ufw.common.UFWRule.normalize
    except AttributeError:
        return lambda: None  # another ufw: run it as the command would, just slower

    def normalize_once(rule):
        if not getattr(rule, "_openclaw_normalized", False):
            normalize(rule)
            rule._openclaw_normalized = True

    touched = []

    def record(v6=False):
        if v6 not in touched:
            touched.append(v6)

    ufw.common.UFWRule.normalize = normalize_once
    backend._write_rules = record

    def flush():
        for v6 in touched:
            real_write(v6=v6)

    return flush


def main():
    sys.argv = sys.argv[1:2]
    commands = [line.strip() for line in sys.stdin if line.strip()]
    ui = ufw.frontend.UFWFrontend(False)
    lock = create_lock(lockfile="/run/ufw.lock", dryrun=False)
    line = ""
    try:
        flush = batch_writes(ui.backend)
        for line in commands:
            parsed = ufw.frontend.parse_command(["ufw"] + shlex.split(line))
            if parsed.action == "enable":
                # Enabling loads the rules files: write them first.
                flush()
            if "rule" in parsed.data:
                ui.do_action(parsed.action, parsed.data["rule"], parsed.data["iptype"], parsed.force)
            else:
                ui.do_action(parsed.action, "", "", parsed.force)
        flush()
    except UFWError as e:
        sys.stderr.write("openclaw: FAILED: ufw %s: %s\n" % (line, e.value))
        sys.exit(1)
    finally:
        release_lock(lock)


main()
