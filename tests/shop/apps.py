"""The shop with other settings than the session's app (EdDSA signing, external issuers), on
the same test database and inside the same per-test transaction, so the users a test arranges
through the `session` fixture exist for it too."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from apiforge.kit import LoopLagSettings, app_state
from apiforge.kit.testing import asgi_client, sessions_inside
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings
from tests.kit.apps import restored_logging


@asynccontextmanager
async def shop_variant(
    database_url: str, db_connection: AsyncConnection | None, **overrides: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A running shop on `database_url` with `overrides` (field values, validated as the
    environment's would be), and a client on it. Its sessions work inside `db_connection`
    (the test's transaction), or on committed data when that is None."""
    settings = ShopSettings.for_tests(
        database_url, loop_lag=LoopLagSettings(enabled=False), **overrides
    )
    async with AsyncExitStack() as stack:
        # create_app configures the process's logging: put the session app's back after.
        stack.enter_context(restored_logging())
        app = create_shop_app(settings)
        await stack.enter_async_context(LifespanManager(app))
        if db_connection is not None:
            stack.enter_context(sessions_inside(app_state(app).database, db_connection))
        client = await stack.enter_async_context(asgi_client(app))
        yield app, client
