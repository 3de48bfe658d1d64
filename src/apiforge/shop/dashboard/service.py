"""The dashboard: independent reads run concurrently, each on its own session (so its own
pooled connection and short read transaction), not on the request's session, which can run
only one statement at a time. Reaches orders and the catalog only through their services."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.cache import CacheBackend
from apiforge.kit.db.database import Database
from apiforge.shop.catalog.schemas import CategorySales
from apiforge.shop.catalog.service import CATALOG_TAG, CatalogService
from apiforge.shop.dashboard.schemas import Dashboard
from apiforge.shop.orders.service import OrderService

T = TypeVar("T")
RECENT_ORDERS = 5
TOP_CATEGORIES = 5
LOW_STOCK_THRESHOLD = 5
LOW_STOCK_ITEMS = 10
# Top categories are the same for everybody and aggregate every order line: computed at most
# once per TOP_CATEGORIES_TTL_SECONDS per cache (the bench's dashboard load otherwise spent
# its PostgreSQL CPU re-aggregating the same answer for every request).
TOP_CATEGORIES_TTL_SECONDS = 30
_TOP_CATEGORIES = TypeAdapter(list[CategorySales])


class DashboardService:
    """`concurrent=False` runs the same reads one after another (the baseline the concurrent
    version is measured against)."""

    def __init__(
        self, database: Database, *, cache: CacheBackend | None = None, concurrent: bool = True
    ) -> None:
        self.database = database
        self.cache = cache
        self.concurrent = concurrent

    async def build(self, user_id: int, *, with_stock_alerts: bool) -> Dashboard:
        # Coroutines, not yet running: awaited one by one, or all at once as tasks.
        orders = self._read(lambda session: OrderService(session).summary(user_id))
        recent = self._read(lambda session: OrderService(session).recent(user_id, RECENT_ORDERS))
        top = self._top_categories()
        low = (
            self._read(
                lambda session: CatalogService(session).low_stock(
                    LOW_STOCK_THRESHOLD, LOW_STOCK_ITEMS
                )
            )
            if with_stock_alerts
            else _nothing()
        )
        if not self.concurrent:
            return Dashboard.model_construct(
                orders=await orders,
                recent_orders=await recent,
                top_categories=await top,
                low_stock=await low,
            )
        # A TaskGroup, not a bare gather: if one read fails, the others are cancelled (and
        # their connections returned) instead of running on unobserved.
        async with asyncio.TaskGroup() as group:
            orders_task = group.create_task(orders)
            recent_task = group.create_task(recent)
            top_task = group.create_task(top)
            low_task = group.create_task(low)
        return Dashboard.model_construct(
            orders=orders_task.result(),
            recent_orders=recent_task.result(),
            top_categories=top_task.result(),
            low_stock=low_task.result(),
        )

    async def _read(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        # Autocommit: each read is one statement, so no BEGIN/COMMIT round trips.
        async with self.database.autocommit_session() as session:
            return await read(session)

    async def _top_categories(self) -> list[CategorySales]:
        async def load() -> bytes:
            top = await self._read(
                lambda session: CatalogService(session).top_categories(TOP_CATEGORIES)
            )
            return _TOP_CATEGORIES.dump_json(top)

        if self.cache is None:
            return _TOP_CATEGORIES.validate_json(await load())
        cached = await self.cache.get_or_load(
            "dashboard:top_categories",
            load,
            ttl=TOP_CATEGORIES_TTL_SECONDS,
            tags=(CATALOG_TAG,),  # a renamed or deleted category shows at once
        )
        return _TOP_CATEGORIES.validate_json(cached)


async def _nothing() -> None:
    return None
