"""The `db` baseline reads the shop's own rows and answers with the shop's JSON, so its ratio
compares the same database work."""

import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from apiforge.bench.db_baseline import create_db_baseline_app, dsn_from_url
from apiforge.kit import Migrations
from apiforge.kit.testing import migrated_database, running_app
from apiforge.shop.app import create_shop_app
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.seed import seed_demo
from apiforge.shop.settings import ShopSettings

CUSTOMER = {"email": "customer@example.com", "password": "apiforge-demo"}


@pytest.fixture(scope="module")
async def shop_url(
    postgres_admin: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A seeded database of this module's own: the db baseline reads committed rows."""
    async with migrated_database(
        "postgres",
        Migrations(MIGRATIONS_DIR),
        directory=tmp_path_factory.mktemp("db_baseline"),
        name=f"apiforge_db_baseline_{os.getpid()}",
        postgres_admin=postgres_admin,
    ) as url:
        await seed_demo(ShopSettings.for_tests(url), products=45)
        yield url


@pytest.fixture
async def clients(shop_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app = create_db_baseline_app(dsn_from_url(shop_url), pool_size=2)
    async with (
        running_app(create_shop_app(ShopSettings.for_tests(shop_url))) as shop,
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://db") as db,
    ):
        yield shop, db


def _same_instants(value: Any) -> Any:
    """Timestamps as instants: PostgreSQL writes `+00:00` where the shop writes `Z`."""
    if isinstance(value, dict):
        return {k: _same_instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same_instants(v) for v in value]
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        return datetime.fromisoformat(value)
    return value


async def _bearer(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/api/auth/login", json=CUSTOMER)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_products_read_as_the_shop_serves_them(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    shop, db = clients
    for path in ("/api/products/7", "/api/products/45", "/api/categories"):
        ours, theirs = await db.get(path), await shop.get(path)
        assert ours.status_code == theirs.status_code == 200
        assert ours.headers["content-type"] == "application/json"
        assert _same_instants(ours.json()) == _same_instants(theirs.json())
    ours, theirs = (await db.get("/api/products")).json(), (await shop.get("/api/products")).json()
    assert _same_instants(ours["items"]) == _same_instants(theirs["items"])
    assert len(ours["items"]) == 20
    assert ours["next_cursor"] is not None
    assert (await db.get("/api/products/999999")).status_code == 404


async def test_my_orders_are_the_shop_s_page(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    shop, db = clients
    customer = await _bearer(shop)
    items = [{"product_id": 1, "quantity": 2}, {"product_id": 3, "quantity": 1}]
    for _ in range(3):
        placed = await shop.post("/api/orders", json={"items": items}, headers=customer)
        assert placed.status_code == 201, placed.text
    ours = await db.get("/api/orders", headers=await _bearer(db))
    theirs = await shop.get("/api/orders", headers=customer)
    assert ours.status_code == theirs.status_code == 200
    assert len(ours.json()["items"]) >= 3
    assert _same_instants(ours.json()["items"]) == _same_instants(theirs.json()["items"])
    assert (await db.get("/api/orders")).status_code == 401
