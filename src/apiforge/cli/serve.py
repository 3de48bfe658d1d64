"""`apiforge serve`: the shop on Uvicorn (uvloop, httptools), as one process or a supervisor with
N workers. On SIGTERM it stops accepting, lets requests in flight finish for up to the drain
timeout, closes the pools (the lifespan) and exits 0. Workers pool their metrics in a
PROMETHEUS_MULTIPROC_DIR prepared here; with metrics.port set the supervisor serves the sum."""

import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from math import ceil
from pathlib import Path
from types import FrameType
from typing import Annotated
from wsgiref.simple_server import WSGIServer

import typer
import uvicorn
from prometheus_client import start_http_server, values
from uvicorn.supervisors import ChangeReload, Multiprocess

from apiforge.cli.settings import load_settings
from apiforge.kit.logs import configure_logging
from apiforge.kit.metrics.multiprocess import multiprocess_registry, sweep_dead_processes
from apiforge.kit.settings import Settings

APP_FACTORY = "apiforge.shop.app:create_shop_app"
# Uvicorn's exit code when the app could not start.
STARTUP_FAILURE = 3


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind.", show_default="server.host")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="TCP port.", show_default="server.port")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes.", show_default="server.workers"),
    ] = None,
    drain_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=600,
            help="Seconds requests in flight get to finish after SIGTERM.",
            show_default="server.drain_timeout_seconds",
        ),
    ] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    proxy_headers: Annotated[
        bool,
        typer.Option(help="Trust X-Forwarded-* from FORWARDED_ALLOW_IPS (behind a proxy)."),
    ] = False,
    app: Annotated[
        str, typer.Option(help="ASGI app factory to serve (module:function).")
    ] = APP_FACTORY,
) -> None:
    """Serve the shop API."""
    # Validate here, once, so a bad configuration is one line and exit 2 instead of a traceback
    # per worker. Each worker then builds its own Settings in the factory (nothing is shared).
    settings = load_settings()
    # The supervisor never builds the app, so its own lines (and Uvicorn's) need this too.
    configure_logging(settings)
    server = settings.server
    config = uvicorn.Config(
        app,
        factory=True,
        host=host or server.host,
        port=port or server.port,
        workers=workers or server.workers,
        reload=reload,
        loop="uvloop",
        http="httptools",
        # Logging belongs to the kit (configure_logging): JSON lines in production, Uvicorn's
        # included. Our own access log (request IDs, route templates) replaces Uvicorn's.
        log_config=None,
        access_log=False,
        # Uvicorn takes whole seconds.
        timeout_graceful_shutdown=ceil(
            server.drain_timeout_seconds if drain_timeout is None else drain_timeout
        ),
        timeout_keep_alive=ceil(server.keepalive_seconds),
        # Uvicorn's 5 s kills workers still importing on a loaded machine, and the replacement
        # is no faster.
        timeout_worker_healthcheck=ceil(server.worker_timeout_seconds),
        # Off by default: trusting X-Forwarded-For from anyone lets clients spoof their address.
        proxy_headers=proxy_headers,
        server_header=False,
    )
    with shared_metrics(settings, config.host) as metrics_dir:
        _run(config, metrics_dir)


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


def _run(config: uvicorn.Config, metrics_dir: Path | None) -> None:
    if config.should_reload:
        target = uvicorn.Server(config).run
        ChangeReload(config, target=target, sockets=[config.bind_socket()]).run()
        return
    if config.workers > 1:
        Supervisor(config, [config.bind_socket()], metrics_dir).run()
        return
    server = uvicorn.Server(config)
    # Uvicorn raises the signal it stopped on again once it is done; with the default handler
    # a SIGTERM would then kill the process (exit 143) after a clean shutdown.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    server.run()
    if not server.started:
        raise typer.Exit(STARTUP_FAILURE)


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


class Supervisor(Multiprocess):
    """Uvicorn's supervisor, plus two things. On SIGTERM or SIGINT it first closes its own copy
    of the listening socket: the workers close theirs, and new connections are then refused
    instead of queueing on a socket nobody accepts from. And a worker that died or was
    replaced has its live gauges dropped from the shared metrics."""

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], metrics_dir: Path | None
    ) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        if self._pids() != before:
            self._forget_dead()

    def restart_all(self) -> None:
        super().restart_all()
        self._forget_dead()

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}

    def _forget_dead(self) -> None:
        if self.metrics_dir is not None:
            sweep_dead_processes(str(self.metrics_dir))
