"""`apiforge serve`: the service (the shop unless `--app` names another) on Uvicorn or Granian
(`--server`, default `server.backend`), as one process or a supervisor with N workers (kit's
`serve_factory`). The app is built once here
first, so bad settings or a missing extra are one line and exit 2 before anything binds."""

from enum import StrEnum
from typing import Annotated

import typer

from apiforge.cli.service import DEFAULT_APP, AppOption, fail, load_config

# Uvicorn's exit code when the app could not start.
STARTUP_FAILURE = 3


class ServerChoice(StrEnum):
    uvicorn = "uvicorn"
    granian = "granian"


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
    server: Annotated[
        ServerChoice | None,
        typer.Option(help="The HTTP server.", show_default="server.backend"),
    ] = None,
    app: AppOption = DEFAULT_APP,
) -> None:
    """Serve the service's API (the shop unless --app names another)."""
    from apiforge.kit import ServeOptions, serve_factory

    # Each worker then builds its own app from the factory (nothing is shared).
    settings = load_config(app).settings
    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        drain_timeout=drain_timeout,
        reload=reload,
        proxy_headers=proxy_headers,
        server=None if server is None else server.value,
    )
    if not serve_factory(app, settings, options):
        fail(f"{settings.service_name} did not start (the reason is logged above)", STARTUP_FAILURE)
