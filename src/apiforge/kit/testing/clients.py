"""HTTP clients on an app and real tokens for them: what a test of a service's routes needs.
Not for: production code."""

import typing
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from apiforge.kit.auth.principal import Principal
from apiforge.kit.state import app_state

BASE_URL = "http://testserver"
# typing's Callable: only its alias takes a docstring of its own.
AppFactory = typing.Callable[[typing.Any], FastAPI]
AppFactory.__doc__ = """What the plugin's `app_factory` fixture returns: the service's app
factory, called with the test settings (`create_notes_app`)."""


def bearer_headers(
    app: FastAPI, subject: str | int, role: str = "user", scopes: Iterable[str] = ()
) -> dict[str, str]:
    """An `Authorization` header with a real access token signed by the running app (no
    dependency overrides: the route checks it as it would any client's)."""
    principal = Principal(subject=str(subject), role=role, scopes=frozenset(scopes))
    return {"Authorization": f"Bearer {app_state(app).tokens.issue(principal).token}"}


@asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on an app that is already running (its lifespan entered)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs `app`'s lifespan and yields a client on it; the lifespan ends with the block.
    The client calls the app itself, not `LifespanManager.app`: that one hands every request
    the same lifespan-state dict (ASGI asks servers for a copy per request), so what one
    request notes in `scope["state"]` (its user, its route) would show in the next's."""
    async with LifespanManager(app), asgi_client(app) as client:
        yield client
