"""Serving an app factory on Granian (Rust, hyper; the ASGI interface with the lifespan, uvloop),
as one worker or N under Granian's supervisor, with the guarantees `apiforge serve` gives on
Uvicorn: SIGTERM stops accepting and lets requests in flight finish for up to the drain timeout,
every log line goes through the kit's formatter, the workers' metrics are summed (and a dead
worker's live gauges dropped when it is replaced), a worker that dies is replaced, and the
header-read timeout and backpressure come from settings. Not for: parsing a command line or
choosing the server (`kit.serving.serve_factory`).

The drain: Granian's worker, on SIGTERM, stops accepting and waits for its connections before
it runs the lifespan's end; Granian's supervisor kills a worker still busy `workers_kill_timeout`
after the signal. That is set to the drain timeout plus time for the lifespan to close the
pools, so a request longer than the drain is cut by the kill (Uvicorn cancels it instead)."""

import os
from math import ceil
from typing import Any

from granian.constants import HTTPModes, Interfaces, Loops
from granian.http import HTTP1Settings
from granian.server import MPServer
from granian.utils.proxies import wrap_asgi_with_proxy_headers
from uvicorn.importer import import_from_string

from apiforge.kit.metrics.multiprocess import sweep_dead_processes
from apiforge.kit.serving.metrics import shared_metrics
from apiforge.kit.serving.options import ServeOptions
from apiforge.kit.settings import Settings

# After the drain, a worker still closes its pools and flushes its exporters (the lifespan's
# end): time for that before the supervisor's SIGKILL (as deploy/gunicorn.conf.py gives).
LIFESPAN_CLOSE_SECONDS = 5

# Granian's own loggers: no handler of theirs, so their lines reach the kit's one handler on
# the root logger (JSON in production); its access log stays off (the kit writes its own).
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {},
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True, "level": "WARNING"},
    },
}


# `--proxy-headers`: Granian has no option for it, so each worker serves `proxied_app`, which
# builds the service from the factory named here (inherited by the workers) and wraps it.
PROXIED_FACTORY = f"{__name__}:proxied_app"
FACTORY_ENV = "APIFORGE_SERVING_PROXIED_FACTORY"
# The proxies trusted, as Uvicorn reads them (so one setting means the same on both servers).
TRUSTED_PROXIES_ENV = "FORWARDED_ALLOW_IPS"


def proxied_app() -> Any:
    """The service's app with `X-Forwarded-For` and `X-Forwarded-Proto` applied to the ASGI
    scope's client and scheme when the peer is one of `FORWARDED_ALLOW_IPS` (default
    127.0.0.1, comma-separated addresses or networks, `*` for any), as Uvicorn's
    `--proxy-headers`; Granian's own wrapper does the work. Runs in each Granian worker."""
    factory = import_from_string(os.environ[FACTORY_ENV])
    trusted = os.environ.get(TRUSTED_PROXIES_ENV, "127.0.0.1")
    return wrap_asgi_with_proxy_headers(factory(), trusted_hosts=trusted)


class KitGranian(MPServer):
    """Granian's process supervisor, plus the dead-worker sweep of the shared metrics when it
    replaces a worker. It overrides `_respawn_workers`, which is not a documented API: the
    kill -9 test on real processes (tests/faults/test_worker_killed.py) catches a release that
    changes it."""

    metrics_dir: str | None = None

    def _respawn_workers(self, *args: Any, **kwargs: Any) -> None:
        super()._respawn_workers(*args, **kwargs)
        if self.metrics_dir is not None:
            sweep_dead_processes(self.metrics_dir)


def granian_server(factory: str, settings: Settings, options: ServeOptions) -> KitGranian:
    """Granian's server for the app factory `factory` ("module:function")."""
    server = settings.server
    drain = server.drain_timeout_seconds if options.drain_timeout is None else options.drain_timeout
    if options.proxy_headers:
        os.environ[FACTORY_ENV] = factory
        factory = PROXIED_FACTORY
    return KitGranian(
        factory,
        factory=True,
        address=options.host or server.host,
        port=options.port or server.port,
        workers=options.workers or server.workers,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        # HTTP/1.1 only, as Uvicorn: the header deadline below is HTTP/1's.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=ceil(server.header_read_timeout_seconds * 1000)
        ),
        backpressure=server.backpressure,
        websockets=False,
        log_dictconfig=LOG_CONFIG,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=ceil(drain) + LIFESPAN_CLOSE_SECONDS,
        reload=options.reload,
    )


def serve_granian(factory: str, settings: Settings, options: ServeOptions) -> bool:
    """Serves until stopped; False when the app did not start (a worker's lifespan failed, or
    workers kept dying)."""
    server = granian_server(factory, settings, options)
    with shared_metrics(settings, server.bind_addr) as metrics_dir:
        server.metrics_dir = None if metrics_dir is None else str(metrics_dir)
        try:
            server.serve()
        except SystemExit as exc:
            # Granian exits 1 when a worker died at start-up or in a crash loop.
            return exc.code in (None, 0)
    return True
