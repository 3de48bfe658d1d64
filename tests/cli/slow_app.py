"""A kit app with a slow route, for the shutdown tests (and `/whoami`, for the proxy-headers
one): `apiforge serve --app tests.cli.slow_app:create_slow_app`. Markers in
$APIFORGE_TEST_MARKERS tell the test what each worker did: `started-*` when a slow request is
inside its handler, `closed-<pid>` once the kit's lifespan has ended (pools disposed)."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request

from apiforge.kit import Settings, create_app

router = APIRouter()


def _markers() -> Path:
    return Path(os.environ["APIFORGE_TEST_MARKERS"])


@router.get("/slow")
async def slow(seconds: float) -> dict[str, float]:
    (_markers() / f"started-{uuid.uuid4().hex}").touch()
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@router.get("/whoami")
async def whoami(request: Request) -> dict[str, str | None]:
    """The client and scheme the server put in the scope (for the proxy-headers test)."""
    return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}


def create_slow_app() -> FastAPI:
    app = create_app(Settings(), routers=[router], title="slow")
    kit_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        async with kit_lifespan(application):
            yield
        # Reached only after the kit's lifespan has closed its pools.
        (_markers() / f"closed-{os.getpid()}").touch()

    app.router.lifespan_context = lifespan
    return app
