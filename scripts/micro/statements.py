"""CPU per one-row read on PostgreSQL through each layer, to choose the hot-path style:
a Core select built per call (AsyncSession), the same statement prebuilt with bind
parameters (AsyncSession, then AsyncConnection), and raw asyncpg.

Run: .venv/bin/python scripts/micro/statements.py   (needs PostgreSQL at APIFORGE_TEST_POSTGRES_URL)
"""

import time
from collections.abc import Awaitable, Callable

import uvloop
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from apiforge.kit.db.base import table_of
from apiforge.kit.db.database import Database
from apiforge.kit.db.engine import autocommit
from apiforge.kit.db.migrations import Migrations
from apiforge.kit.settings import DatabaseSettings
from apiforge.kit.testing.services import (
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
)
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.migrations import MIGRATIONS_DIR

N = 3000
products, categories = table_of(Product), table_of(Category)
COLUMNS = (products.c.id, products.c.name, products.c.price_minor, categories.c.name)
PREBUILT = (
    select(*COLUMNS)
    .join_from(products, categories, products.c.category_id == categories.c.id)
    .where(products.c.id == bindparam("product_id"))
)


def built_per_call(product_id: int) -> object:
    return (
        select(*COLUMNS)
        .join_from(products, categories, products.c.category_id == categories.c.id)
        .where(products.c.id == product_id)
    )


async def measure(label: str, read: Callable[[], Awaitable[object]]) -> None:
    for _ in range(200):
        await read()
    start = time.process_time()
    for _ in range(N):
        await read()
    print(f"{label:<44} {(time.process_time() - start) / N * 1e6:6.0f} us CPU per read")


async def main() -> None:
    admin = postgres_admin_url()
    url = await create_postgres_database(admin, "apiforge_micro")
    try:
        await Migrations(MIGRATIONS_DIR).upgrade(url)
        db = Database.from_url(url, DatabaseSettings(pool_size=2))
        async with db.transaction() as session:
            await session.execute(insert(categories).values(id=1, name="Laptops"))
            await session.execute(
                insert(products).values(id=1, category_id=1, name="Aero 14", price_minor=999)
            )

        async def session_built() -> object:
            async with db.read_session() as s:
                return (await s.execute(built_per_call(1))).first()  # type: ignore[call-overload]

        async def session_prebuilt() -> object:
            async with db.read_session() as s:
                return (await s.execute(PREBUILT, {"product_id": 1})).first()

        # The read session's write guard (kit.db.database.ReadOnlySession) against the same
        # session class without it.
        unguarded = async_sessionmaker(autocommit(db.engine), expire_on_commit=False)

        async def session_prebuilt_unguarded() -> object:
            async with unguarded() as s:
                return (await s.execute(PREBUILT, {"product_id": 1})).first()

        async def connection_prebuilt() -> object:
            async with db.engine.connect() as conn:
                return (await conn.execute(PREBUILT, {"product_id": 1})).first()

        sql = str(PREBUILT.compile(dialect=db.engine.dialect))

        async def raw_asyncpg() -> object:
            async with db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                return await raw.driver_connection.fetchrow(sql, 1)  # type: ignore[union-attr]

        await measure("AsyncSession, select built per call", session_built)
        await measure("AsyncSession, prebuilt select", session_prebuilt)
        await measure("  the same without the read-only guard", session_prebuilt_unguarded)
        await measure("AsyncSession, prebuilt select (again)", session_prebuilt)
        await measure("AsyncConnection, prebuilt select", connection_prebuilt)
        await measure("asyncpg on a pooled connection, SQL compiled once", raw_asyncpg)
        await db.dispose()
    finally:
        await drop_postgres_database(admin, "apiforge_micro")


uvloop.run(main())
