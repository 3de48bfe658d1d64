"""The dashboard: independent reads run concurrently, each on its own session (so its own
pooled connection and short read transaction), not on the request's session, which can run
only one statement at a time. Reaches orders and the catalog only through their services."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import CacheBackend, Database
from apiforge.shop.catalog.schemas import CategorySales
from apiforge.shop.catalog.service import CATALOG_TAG, CatalogService
from apiforge.shop.dashboard.schemas import Dashboard
from apiforge.shop.orders.service import OrderService
from apiforge.shop.settings import DashboardSettings

T = TypeVar("T")
_TOP_CATEGORIES = TypeAdapter(list[CategorySales])


class DashboardService:
    """Builds one user's dashboard from reads that run concurrently."""

    def __init__(
        self,
        database: Database,
        settings: DashboardSettings,
        *,
        cache: CacheBackend | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.cache = cache

    async def build(self, user_id: int, *, with_stock_alerts: bool) -> Dashboard:
        shown = self.settings
        # A TaskGroup, not a bare gather: if one read fails, the others are cancelled (and
        # their connections returned) instead of running on unobserved.
        async with asyncio.TaskGroup() as group:
            orders = group.create_task(
                self._read(lambda session: OrderService(session).summary(user_id))
            )
            recent = group.create_task(
                self._read(
                    lambda session: OrderService(session).recent(user_id, shown.recent_orders)
                )
            )
            top = group.create_task(self._top_categories())
            low = group.create_task(
                self._read(
                    lambda session: CatalogService(session).low_stock(
                        shown.low_stock_threshold, shown.low_stock_items
                    )
                )
                if with_stock_alerts
                else _nothing()
            )
        return Dashboard.model_construct(
            orders=orders.result(),
            recent_orders=recent.result(),
            top_categories=top.result(),
            low_stock=low.result(),
        )

    async def _read(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        # A read session: each read is one statement, so no BEGIN/COMMIT round trips.
        async with self.database.read_session() as session:
            return await read(session)

    async def _top_categories(self) -> list[CategorySales]:
        async def load() -> bytes:
            top = await self._read(
                lambda session: OrderService(session).top_categories(self.settings.top_categories)
            )
            return _TOP_CATEGORIES.dump_json(top)

        if self.cache is None:
            return _TOP_CATEGORIES.validate_json(await load())
        cached = await self.cache.get_or_load(
            "dashboard:top_categories",
            load,
            ttl=self.settings.top_categories_ttl_seconds,
            tags=(CATALOG_TAG,),  # a renamed or deleted category shows at once
        )
        return _TOP_CATEGORIES.validate_json(cached)


async def _nothing() -> None:
    return None
