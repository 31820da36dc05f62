"""CPU seconds of a command and of every process it starts, the re-parented ones included.

``python benchmarks/cpu_with_children.py <command> …`` (e.g. ``.venv/bin/pytest -q -s -p no:cacheprovider
tests/test_spark_parity.py``). A JVM that pyspark starts outlives the dbt process that started it and is
re-parented: ``/usr/bin/time`` of the command does not count it. This process makes itself a child subreaper
(``prctl(PR_SET_CHILD_SUBREAPER)``, Linux), so such orphans are re-parented to it; it reaps them all and prints, to
stderr, user + system CPU of every descendant (``RUSAGE_CHILDREN``), the wall time and the load average at start
and end. Exits with the command's status.
"""
from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(command: list[str]) -> int:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    started, load = time.time(), os.getloadavg()[0]
    status = subprocess.Popen(command).wait()
    while True:   # the orphans re-parented here (a JVM ends after its Python process)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"CPU-s {usage.ru_utime + usage.ru_stime:.1f} (user {usage.ru_utime:.1f}, sys {usage.ru_stime:.1f}); "
          f"wall {time.time() - started:.0f} s; load {load:.1f} -> {os.getloadavg()[0]:.1f}; exit {status}",
          file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
