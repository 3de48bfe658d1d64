"""Where a machine's CPU goes while something else runs a load (e.g. `apiforge bench`): every
process's user + system time is read from /proc at the start and the end of a window, and the
difference is summed per group (the shop's workers, the bare baseline, PostgreSQL, Redis, wrk,
the rest), as CPU-seconds and as a share of all cores. The bench's figures say how fast; this
says which process paid for it (e.g. whether two shop workers are starved by PostgreSQL).

Run: .venv/bin/python scripts/micro/cpu_split.py --seconds 20 [--delay 5]
(start it while a bench round runs; `--delay` waits first, past a warm-up).
"""

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
# (group, test on the command line), first match wins; "shop" are `apiforge serve` processes
# (the supervisor and its workers), the bench's baseline is a bare FastAPI app.
GROUPS: list[tuple[str, str]] = [
    ("baseline", "apiforge.bench.baseline"),
    ("db baseline", "apiforge.bench.db_baseline"),
    ("shop", "apiforge serve"),
    ("shop", "granian"),
    ("postgres", "postgres"),
    ("redis", "redis-server"),
    ("wrk", "wrk"),
    ("bench (open loop, driver)", "apiforge bench"),
]


def _group(cmdline: str) -> str:
    for name, marker in GROUPS:
        if marker in cmdline:
            return name
    return "other"


def _times() -> dict[int, tuple[str, float]]:
    """pid -> (group, CPU-seconds so far) for every process readable now."""
    found: dict[int, tuple[str, float]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
        if not cmdline:  # a kernel thread
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # Fields 14 and 15 of stat (utime, stime), counted after the ")" from field 3.
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        found[int(entry.name)] = (_group(cmdline), seconds)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    time.sleep(args.delay)
    before = _times()
    started = time.monotonic()
    time.sleep(args.seconds)
    after = _times()
    elapsed = time.monotonic() - started
    spent: dict[str, float] = defaultdict(float)
    for pid, (group, seconds) in after.items():
        # A process born inside the window counts from zero.
        spent[group] += seconds - before.get(pid, (group, 0.0))[1]
    cores = os.cpu_count() or 1
    total = sum(spent.values())
    print(f"window {elapsed:.1f} s on {cores} cores; busy {total / (elapsed * cores):.0%}")
    print(f"{'group':<28}{'CPU-s':>8}{'of all cores':>14}")
    for group, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{group:<28}{seconds:>8.1f}{seconds / (elapsed * cores):>14.0%}")


if __name__ == "__main__":
    main()
