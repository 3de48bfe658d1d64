"""Serving an app factory on Uvicorn (uvloop, httptools with the kit's header deadline), as
one process or a supervisor with N workers: on SIGTERM it stops accepting, lets requests in
flight finish for up to the drain timeout, closes the pools (the lifespan) and exits 0.
Not for: parsing a command line (`apiforge serve` does that) or choosing the server
(`kit.serving.serve_factory`)."""

import signal
import socket
from math import ceil
from pathlib import Path
from types import FrameType

import uvicorn
from uvicorn.supervisors import ChangeReload, Multiprocess

from apiforge.kit.metrics.multiprocess import sweep_dead_processes
from apiforge.kit.serving.header_deadline import HeaderDeadlineProtocol, KitUvicornConfig
from apiforge.kit.serving.metrics import shared_metrics
from apiforge.kit.serving.options import ServeOptions
from apiforge.kit.settings import Settings


def uvicorn_config(factory: str, settings: Settings, options: ServeOptions) -> uvicorn.Config:
    """Uvicorn's configuration for the app factory `factory` ("module:function")."""
    server = settings.server
    drain = server.drain_timeout_seconds if options.drain_timeout is None else options.drain_timeout
    config = KitUvicornConfig(
        factory,
        factory=True,
        host=options.host or server.host,
        port=options.port or server.port,
        workers=options.workers or server.workers,
        reload=options.reload,
        loop="uvloop",
        http=HeaderDeadlineProtocol,
        # "on", not Uvicorn's "auto": a lifespan that fails must stop the server, not leave it
        # answering every request with a 500 ("ASGI 'lifespan' protocol appears unsupported").
        lifespan="on",
        # Logging belongs to the kit (configure_logging): JSON lines in production, Uvicorn's
        # included. Our own access log (request IDs, route templates) replaces Uvicorn's.
        log_config=None,
        access_log=False,
        # Uvicorn takes whole seconds.
        timeout_graceful_shutdown=ceil(drain),
        timeout_keep_alive=ceil(server.keepalive_seconds),
        # Uvicorn's 5 s kills workers still importing on a loaded machine, and the replacement
        # is no faster.
        timeout_worker_healthcheck=ceil(server.worker_timeout_seconds),
        proxy_headers=options.proxy_headers,
        server_header=False,
        # Backpressure: none here on purpose. Uvicorn's limit_concurrency counts connections,
        # so slow or idle clients fill it and everyone else gets 503 (settings.server says so).
    )
    config.header_read_timeout = server.header_read_timeout_seconds
    return config


def serve_uvicorn(factory: str, settings: Settings, options: ServeOptions) -> bool:
    """Serves until stopped; False when the app did not start (its lifespan failed)."""
    config = uvicorn_config(factory, settings, options)
    with shared_metrics(settings, config.host) as metrics_dir:
        return _run(config, metrics_dir)


def _run(config: uvicorn.Config, metrics_dir: Path | None) -> bool:
    if config.should_reload:
        target = uvicorn.Server(config).run
        ChangeReload(config, target=target, sockets=[config.bind_socket()]).run()
        return True
    if config.workers > 1:
        Supervisor(config, [config.bind_socket()], metrics_dir).run()
        return True
    server = uvicorn.Server(config)
    # Uvicorn raises the signal it stopped on again once it is done; with the default handler
    # a SIGTERM would then kill the process (exit 143) after a clean shutdown.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    server.run()
    return server.started


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


class Supervisor(Multiprocess):
    """Uvicorn's supervisor, plus two things. On SIGTERM or SIGINT it first closes its own copy
    of the listening socket: the workers close theirs, and new connections are then refused
    instead of queueing on a socket nobody accepts from. And a worker that died or was
    replaced has its live gauges dropped from the shared metrics. It overrides Uvicorn's
    `Multiprocess` hooks (`handle_term`, `keep_subprocess_alive`, `restart_all`), which are
    not a documented API: the tests on real processes (tests/kit/test_serving.py and
    tests/cli) catch a Uvicorn release that changes them."""

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
