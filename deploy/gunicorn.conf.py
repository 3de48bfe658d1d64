"""Gunicorn with Uvicorn workers serving the shop: `gunicorn -c deploy/gunicorn.conf.py`.

The alternative to `apiforge serve` (the default) for those who want Gunicorn's arbiter: a
heartbeat that replaces a worker whose event loop is stuck, TTIN/TTOU, USR2 upgrades. Every value
comes from apiforge's Settings (APIFORGE_* variables; this file reads no environment itself):
bind from server.host/port, workers, timeouts, drain. Needs the `gunicorn` extra.

Shutdown: SIGTERM closes the listening socket, each worker lets requests in flight finish for
up to server.drain_timeout_seconds, closes its pools and exits; Gunicorn kills what is left
LIFESPAN_CLOSE_SECONDS later.
"""

import shutil
import sys
from math import ceil
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger
from pydantic import ValidationError
from uvicorn_worker import UvicornWorker

from apiforge.cli.service import describe
from apiforge.kit import configure_logging, mark_process_dead, prepare_metrics_dir, serve_metrics
from apiforge.shop.settings import ShopSettings

# After the drain, a worker still closes its pools and flushes its exporters (the lifespan's
# end): time for that before Gunicorn's SIGKILL.
LIFESPAN_CLOSE_SECONDS = 5

try:
    settings = ShopSettings()
except ValidationError as exc:
    sys.exit(f"apiforge: invalid settings: {describe(exc)}")

server_settings = settings.server
drain_seconds = ceil(server_settings.drain_timeout_seconds)

wsgi_app = "apiforge.shop.app:create_shop_app()"
host = server_settings.host
bind = [f"[{host}]:{server_settings.port}" if ":" in host else f"{host}:{server_settings.port}"]
workers = server_settings.workers
keepalive = ceil(server_settings.keepalive_seconds)
# The heartbeat: a worker whose event loop has not ticked for this long is killed and replaced.
timeout = ceil(server_settings.worker_timeout_seconds)
graceful_timeout = drain_seconds + LIFESPAN_CLOSE_SECONDS
# The heartbeat file is touched on every loop tick: on tmpfs, never on a disk that may stall
# (a container's /tmp can be an overlay on one).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108  # tmpfs, on purpose
# No recycling after N requests (max_requests 0): no leak is known, and a restart drops the
# worker's warm state (pool connections, L1 cache, frozen start-up heap). If memory does grow,
# pass `--max-requests 20000 --max-requests-jitter 2000` (the jitter keeps workers from
# restarting together), and open an issue.
max_requests = 0
# Each worker builds its own app after the fork: engines, pools and clients never cross a fork.
preload_app = False
# Gunicorn 24+ opens a control socket under $HOME for `gunicornc`; unused here, and a non-root
# container with a read-only file system has nowhere to put it.
control_socket_disable = True


class ShopWorker(UvicornWorker):
    """Uvicorn as `apiforge serve` runs it: uvloop and httptools, the kit's access log instead
    of Uvicorn's, the drain timeout on SIGTERM, no Server header, forwarded headers untrusted
    (as `serve` without --proxy-headers)."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012  # the base class declares it this way
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "timeout_graceful_shutdown": drain_seconds,
        "server_header": False,
        "proxy_headers": False,
    }


worker_class = ShopWorker


class KitLogger(Logger):
    """Gunicorn's logger, its lines written by the kit's one handler (JSON in production)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure_logging(settings)


logger_class = KitLogger
# The kit's access log replaces Gunicorn's.
accesslog = None

_metrics: dict[str, Any] = {}


def on_starting(server: Any) -> None:
    """Before any worker forks: the workers' shared metrics directory (as `apiforge serve`)."""
    _metrics["directory"] = prepare_metrics_dir(settings)


def when_ready(server: Any) -> None:
    """The sum of every worker's metrics on metrics.port, served by the arbiter."""
    _metrics["exporter"] = serve_metrics(settings, host, _metrics.get("directory"))


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges (requests in progress, pool use) must stop counting."""
    directory = _metrics.get("directory")
    if directory is not None:
        mark_process_dead(worker.pid, str(directory))


def on_exit(server: Any) -> None:
    exporter = _metrics.pop("exporter", None)
    if exporter is not None:
        exporter.shutdown()
        exporter.server_close()
    directory = _metrics.pop("directory", None)
    if directory is not None and settings.metrics.multiproc_dir is None:
        shutil.rmtree(directory, ignore_errors=True)
