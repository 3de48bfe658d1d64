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


def _group(cmdline: str) -> str | None:
    for name, marker in GROUPS:
        if marker in cmdline:
            return name
    return None


def _times() -> dict[int, tuple[str, float, float]]:
    """pid -> (group, own CPU-seconds so far, CPU-seconds of its exited, reaped children) for
    every process readable now. A process matching no group takes its parent's (Uvicorn's
    workers are `python -c "from multiprocessing.spawn ..."`); reaped children's time is how a
    short-lived one (each round's wrk) is still counted, under its parent's group."""
    stats: dict[int, tuple[int, str | None, float, float]] = {}
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
        # After the ")": field 3 is fields[0]; ppid is field 4, utime/stime 14/15, and
        # cutime/cstime (waited-for children) 16/17.
        own = (int(fields[11]) + int(fields[12])) / TICKS
        reaped = (int(fields[13]) + int(fields[14])) / TICKS
        stats[int(entry.name)] = (int(fields[1]), _group(cmdline), own, reaped)

    def group_of(pid: int, depth: int = 0) -> str:
        parent, group, _, _ = stats[pid]
        if group is not None:
            return group
        if parent in stats and depth < 10:
            return group_of(parent, depth + 1)
        return "other"

    return {pid: (group_of(pid), own, reaped) for pid, (_, _, own, reaped) in stats.items()}


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
    for pid, (group, own, reaped) in after.items():
        # A process born inside the window counts from zero.
        _, own_before, reaped_before = before.get(pid, (group, 0.0, 0.0))
        spent[group] += own - own_before
        if reaped > reaped_before:
            spent[f"{group}: exited children"] += reaped - reaped_before
    cores = os.cpu_count() or 1
    total = sum(spent.values())
    print(f"window {elapsed:.1f} s on {cores} cores; busy {total / (elapsed * cores):.0%}")
    print(f"{'group':<28}{'CPU-s':>8}{'of all cores':>14}")
    for group, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{group:<28}{seconds:>8.1f}{seconds / (elapsed * cores):>14.0%}")


if __name__ == "__main__":
    main()
