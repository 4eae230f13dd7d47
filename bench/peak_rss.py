"""Run a command; report its exit code, peak RSS and wall time, measured from a small process.

    python -S bench/peak_rss.py FD COMMAND [ARG...]

writes ``EXIT_CODE MAX_RSS_KIB SECONDS`` to the file descriptor FD once COMMAND ends;
COMMAND inherits this process's working directory, environment, stdin, stdout and stderr.

Why a helper: Linux counts a child's peak RSS (``ru_maxrss``) from the moment it is forked,
and the pages it shares with its parent count, and the high-water mark survives ``exec``.
A command started straight from the benchmark, which holds every repository it generated,
reports at least the benchmark's own size (a 10,000-file repository added 8 MiB to vnuma's
figure). This helper is the interpreter alone (``-S``: no site, about 10 MiB) when it forks,
so the figure is the command's own whenever the command uses more than that.
"""

import os
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        sys.stderr.write(__doc__ or "")
        return 2
    report, command = int(argv[1]), argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report)
            os.execv(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    line = f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {elapsed!r}\n"
    os.write(report, line.encode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
