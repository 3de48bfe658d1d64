"""The workers' shared metrics while a server runs, whichever server it is: a
PROMETHEUS_MULTIPROC_DIR prepared before any worker starts, and with metrics.port set the sum
of every worker's figures served by the supervising process. Not for: the metrics themselves
(kit.metrics)."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server, values

from apiforge.kit.metrics.multiprocess import multiprocess_registry
from apiforge.kit.settings import Settings


@contextmanager
def shared_metrics(settings: Settings, host: str) -> Iterator[Path | None]:
    """The metrics directory for the workers while the server runs (a temporary one removed
    afterwards unless metrics.multiproc_dir names one), and their sum on metrics.port if set."""
    directory = prepare_metrics_dir(settings)
    exporter = serve_metrics(settings, host, directory)
    try:
        yield directory
    finally:
        if exporter is not None:
            exporter.shutdown()
            exporter.server_close()
        if directory is not None and settings.metrics.multiproc_dir is None:
            shutil.rmtree(directory, ignore_errors=True)


def prepare_metrics_dir(settings: Settings) -> Path | None:
    """Points prometheus_client (here and in every worker started after) at a directory of
    per-process files, emptied first: a stale worker's counts must never be added in. Call it
    before any worker starts; None when metrics are off."""
    if not settings.metrics.enabled:
        return None
    configured = settings.metrics.multiproc_dir
    directory = Path(configured or tempfile.mkdtemp(prefix="apiforge-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus_client chose its value class when first imported (the kit's imports did that,
    # before the variable was set): choose again. No metric exists yet in this process.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]  # unannotated upstream
    return directory


def serve_metrics(settings: Settings, host: str, directory: Path | None) -> WSGIServer | None:
    """Serves the sum of every worker's metrics on metrics.port from this (supervising)
    process, in a thread; None when no port is set."""
    if directory is None or settings.metrics.port is None:
        return None
    registry = multiprocess_registry(str(directory))
    exporter, _ = start_http_server(settings.metrics.port, addr=host, registry=registry)
    return exporter
