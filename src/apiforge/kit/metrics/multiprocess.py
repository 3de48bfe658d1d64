"""Several worker processes, one set of figures: prometheus_client's multiprocess mode, and the
bookkeeping it needs when a worker dies. Not for: choosing the mode (PROMETHEUS_MULTIPROC_DIR
decides it; `apiforge serve` sets it before any worker starts and has prometheus_client choose
its value class again, see `kit.serving.prepare_metrics_dir`).

For the process manager: `multiprocess_registry()` for a separate-port server
(`prometheus_client.start_http_server(port, registry=multiprocess_registry())`), and
`mark_process_dead(pid)` when a worker exits (gunicorn's `child_exit`). Workers also sweep the
files of dead workers themselves (`sweep_dead_processes`), for servers without an exit hook.
"""

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

__all__ = [
    "mark_process_dead",
    "multiprocess_mode",
    "multiprocess_registry",
    "sweep_dead_processes",
]


def multiprocess_mode() -> bool:
    """Whether metric values go to the shared files. Asked of prometheus_client itself: its value
    class is chosen once, at import, from PROMETHEUS_MULTIPROC_DIR."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def multiprocess_registry(path: str | None = None) -> CollectorRegistry:
    """A registry that aggregates every worker's files in `path` (default: the directory in
    PROMETHEUS_MULTIPROC_DIR, read by prometheus_client) at each collection. Counters and
    histograms are summed, the kit's gauges summed over live workers."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]  # unannotated upstream
    return registry


def sweep_dead_processes(path: str) -> list[int]:
    """Drops the live-gauge files (in progress, pool) of processes that no longer exist, so a
    crashed worker's last values stop counting, and returns their pids. Counters and histograms
    of dead workers stay: their totals must not go backwards."""
    pids = set()
    for file in Path(path).glob("gauge_live*_*.db"):
        suffix = file.stem.rpartition("_")[2]
        if suffix.isdigit():
            pids.add(int(suffix))
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]  # unannotated upstream
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover  # exists, owned by another user (tests run as root)
        return True
    return True
