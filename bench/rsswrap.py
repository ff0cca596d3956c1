#!/usr/bin/env python3
"""rsswrap.py OUT CMD ARGS...: runs CMD (stdin, stdout, stderr inherited),
writes its peak RSS in KiB (from wait4's rusage: that process alone) to OUT
and exits with its status. Used as the prestart hook of the memory runs."""
import os
import sys

pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % ru.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
