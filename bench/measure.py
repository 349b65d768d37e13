#!/usr/bin/env python3
"""Runs a command and prints its wall time, CPU time and peak resident memory (of it and its
children).

Usage: measure.py LABEL -- COMMAND [ARGS...]
"""
import resource
import subprocess
import sys
import time


def main() -> int:
    if "--" not in sys.argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = sys.argv.index("--")
    label = " ".join(sys.argv[1:split]) or "command"
    command = sys.argv[split + 1:]
    started = time.monotonic()
    status = subprocess.run(command).returncode
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"{label}: wall {wall:.2f} s, cpu {cpu:.2f} s, peak RSS {peak_kib / 1024 / 1024:.2f} GiB, "
        f"exit {status}"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
