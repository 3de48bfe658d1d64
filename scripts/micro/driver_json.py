"""CPU per uncached product-detail read on PostgreSQL: through the session (Core select, rows,
a pydantic model and its rendering) against the same row as JSON built by PostgreSQL and
fetched by the driver on the session's connection (`DriverQuery`), the shop's two paths.

Run: .venv/bin/python scripts/micro/driver_json.py   (needs a seeded bench database:
APIFORGE_DATABASE_URL, default the one `apiforge bench` creates, apiforge_bench)
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

from apiforge.kit import Database, DatabaseSettings
from apiforge.shop.catalog.repository import ProductRepository
from apiforge.shop.catalog.service import _PRODUCT_DETAIL, CatalogService

N = 3000
URL = os.environ.get(
    "APIFORGE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apiforge_bench"
)


async def main() -> None:
    database = Database.from_url(URL, DatabaseSettings(pool_size=2))

    async def through_the_session(product_id: int) -> bytes:
        async with database.read_session() as session:
            return _PRODUCT_DETAIL.dump_json(await CatalogService(session).get_product(product_id))

    async def by_the_driver(product_id: int) -> bytes:
        async with database.read_session() as session:
            text = await ProductRepository(session).get_detail_json(product_id)
            return (text or "").encode()

    reads: list[tuple[str, Callable[[int], Awaitable[bytes]]]] = [
        ("session, Core select, pydantic", through_the_session),
        ("DriverQuery, JSON by PostgreSQL", by_the_driver),
    ]
    try:
        for name, read in reads * 2:
            for i in range(1, 200):
                await read(i)
            started = time.process_time()
            for i in range(N):
                await read(1 + i % 9000)
            print(f"{name}: {(time.process_time() - started) / N * 1e6:.0f} us CPU per read")
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
