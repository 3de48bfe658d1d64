"""`apiforge serve`: the shop on Uvicorn with uvloop and httptools."""

from typing import Annotated

import typer
import uvicorn

from apiforge.cli.settings import load_settings

APP_FACTORY = "apiforge.shop.app:create_shop_app"


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    proxy_headers: Annotated[
        bool,
        typer.Option(help="Trust X-Forwarded-* from FORWARDED_ALLOW_IPS (behind a proxy)."),
    ] = False,
) -> None:
    """Serve the shop API."""
    # Validate here, once, so a bad configuration is one line and exit 2 instead of a traceback
    # per worker. Each worker then builds its own Settings in the factory (nothing is shared).
    load_settings()
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        loop="uvloop",
        http="httptools",
        # Our own access log (with request IDs and timings) replaces Uvicorn's.
        access_log=False,
        # Off by default: trusting X-Forwarded-For from anyone lets clients spoof their address.
        proxy_headers=proxy_headers,
        server_header=False,
    )
