"""Fixtures of the fault tests that run the shop in process: a PostgreSQL database of their own
(committed data, never rolled back: the faults happen to other connections), migrated and
seeded once per test process, with a customer to order as."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from apiforge.kit import Migrations
from apiforge.shop.migrations import MIGRATIONS_DIR
from tests.faults.shop import add_products, scratch_postgres

PRODUCTS = 200


@dataclass(frozen=True)
class ShopData:
    url: str
    product_ids: list[int]
    customer_id: int


@pytest.fixture(scope="session")
async def shop_data(postgres_admin: str) -> AsyncIterator[ShopData]:
    async with scratch_postgres(postgres_admin) as url:
        await Migrations(MIGRATIONS_DIR).upgrade(url)
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute("INSERT INTO categories (name) VALUES ('Faults')")
            customer_id = await connection.fetchval(
                "INSERT INTO users (email, password_hash, role)"
                " VALUES ('buyer@example.com', 'unused', 'customer') RETURNING id"
            )
        finally:
            await connection.close()
        products = await add_products(url, PRODUCTS)
        yield ShopData(url, products, int(customer_id))
