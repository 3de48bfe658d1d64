"""Pinning running services (PostgreSQL, Redis) to the load generator's core for a run, and
putting them back: the server under test then has its core to itself.

Opt-in: on a shared machine it slows everybody else's use of those services.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")


def parent_of(pid: int, proc: Path = PROC) -> int | None:
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


def with_children(root: int, proc: Path = PROC) -> list[int]:
    """`root` and its direct children (a postmaster and its backends and workers)."""
    pids = [root]
    for entry in proc.iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name), proc) == root:
            pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def pinned_processes(pids: list[int], core: int) -> Iterator[list[int]]:
    """Pin `pids` to `core` for the block; yields those it could pin, restores them after."""
    before: dict[int, set[int]] = {}
    for pid in pids:
        try:
            before[pid] = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, {core})
        except OSError:  # gone, or not ours to change: leave it be
            before.pop(pid, None)
    try:
        yield sorted(before)
    finally:
        for pid, cores in before.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, cores)
