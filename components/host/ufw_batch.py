# Applies many UFW rule changes in one process, through the same parse_command and do_action
# calls the ufw command itself makes for each invocation (see /usr/sbin/ufw). One Python start
# instead of one per rule: that start-up is most of the 0.13 s each `ufw` call costs.
#
# argv[1]: the ufw executable, which ufw's own checks expect as argv[0].
# stdin: one change per line, "add <line>" or "delete <line>", where <line> is a rule as
# `ufw show added` prints it, e.g. "ufw allow 22/tcp comment 'openclaw:ssh'".
import gettext
import shlex
import sys

import ufw.common
import ufw.frontend
from ufw.common import UFWError
from ufw.util import create_lock, release_lock

gettext.install(ufw.common.programName)


def main():
    sys.argv = sys.argv[1:2]
    changes = [line.rstrip("\n").split(" ", 1) for line in sys.stdin if line.strip()]
    ui = ufw.frontend.UFWFrontend(False)
    lock = create_lock(lockfile="/run/ufw.lock", dryrun=False)
    try:
        for op, line in changes:
            words = shlex.split(line)
            argv = ["ufw", "delete"] + words[1:] if op == "delete" else words
            parsed = ufw.frontend.parse_command(argv)
            ui.do_action(parsed.action, parsed.data["rule"], parsed.data["iptype"], True)
    except UFWError as e:
        sys.stderr.write("openclaw: FAILED: ufw refused '%s': %s\n" % (line, e.value))
        sys.exit(1)
    finally:
        release_lock(lock)


main()
