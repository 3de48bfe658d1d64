"""The shop's ASGI entry point: the kit's app factory plus the shop's routers.

Run it with `apiforge serve` or `uvicorn --factory apiforge.shop.app:create_shop_app`.
"""

from fastapi import FastAPI

from apiforge import __version__
from apiforge.kit.app import create_app
from apiforge.kit.settings import Settings
from apiforge.shop.accounts.router import router as accounts_router
from apiforge.shop.catalog.dependencies import CATALOG_FRONT_CACHE
from apiforge.shop.catalog.router import IMPORT_MAX_BYTES, IMPORT_PATH
from apiforge.shop.catalog.router import router as catalog_router
from apiforge.shop.dashboard.router import router as dashboard_router
from apiforge.shop.orders.router import router as orders_router

DESCRIPTION = """A reference shop built on apiforge.kit: accounts with JWT access tokens and
rotating refresh tokens, a catalog with keyset pagination and search, and orders whose stock is
checked and decremented in one transaction. Errors are `application/problem+json`."""


def create_shop_app(settings: Settings | None = None) -> FastAPI:
    return create_app(
        settings or Settings(),
        routers=[accounts_router, catalog_router, orders_router, dashboard_router],
        title="apiforge shop",
        version=__version__,
        description=DESCRIPTION,
        body_limits={IMPORT_PATH: IMPORT_MAX_BYTES},
        front_cache=CATALOG_FRONT_CACHE,
    )
