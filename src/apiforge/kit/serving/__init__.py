"""Serving an app factory in production: `serve_factory` runs it on the server that
`settings.server.backend` (or the command line) names, Uvicorn or Granian, with the same
guarantees on both (graceful drain, JSON logs, summed multiprocess metrics, a header-read
timeout). Not for: parsing a command line (`apiforge serve` does that)."""

from apiforge.kit.serving.granian_server import granian_server, serve_granian
from apiforge.kit.serving.metrics import prepare_metrics_dir, serve_metrics, shared_metrics
from apiforge.kit.serving.options import Backend, ServeOptions
from apiforge.kit.serving.uvicorn_server import Supervisor, serve_uvicorn, uvicorn_config
from apiforge.kit.settings import Settings

__all__ = [
    "Backend",
    "ServeOptions",
    "Supervisor",
    "granian_server",
    "prepare_metrics_dir",
    "serve_factory",
    "serve_metrics",
    "shared_metrics",
    "uvicorn_config",
]


def serve_factory(factory: str, settings: Settings, options: ServeOptions) -> bool:
    """Serves `factory` ("module:function") until stopped, on `options.server` or else
    `settings.server.backend`; False when the app did not start (its lifespan failed)."""
    backend = options.server or settings.server.backend
    if backend == "granian":
        return serve_granian(factory, settings, options)
    return serve_uvicorn(factory, settings, options)
