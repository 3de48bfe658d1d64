"""apiforge.kit.metrics: Prometheus metrics of an apiforge app (RED by route template, DB pool,
caches, event-loop lag, build info), per app in one process and aggregated over workers in
prometheus_client's multiprocess mode. Not for: logs or traces.

`create_app` installs it (settings.metrics); the serve CLI uses `multiprocess_registry` for a
separate metrics port and `mark_process_dead` when a worker exits.
"""

from apiforge.kit.metrics.install import app_metrics, install_metrics
from apiforge.kit.metrics.multiprocess import (
    mark_process_dead,
    multiprocess_mode,
    multiprocess_registry,
    sweep_dead_processes,
)
from apiforge.kit.metrics.registry import AppMetrics, build_metrics

__all__ = [
    "AppMetrics",
    "app_metrics",
    "build_metrics",
    "install_metrics",
    "mark_process_dead",
    "multiprocess_mode",
    "multiprocess_registry",
    "sweep_dead_processes",
]
