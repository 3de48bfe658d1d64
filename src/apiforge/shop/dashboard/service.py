"""The dashboard: independent reads run concurrently, each on its own session (so its own
pooled connection and short read transaction), not on the request's session, which can run
only one statement at a time. Reaches orders and the catalog only through their services."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import CacheBackend, Database
from apiforge.shop.catalog.schemas import LowStockProduct
from apiforge.shop.catalog.service import CATALOG_TAG, CatalogService
from apiforge.shop.orders.service import TOP_CATEGORIES, OrderService
from apiforge.shop.settings import DashboardSettings

T = TypeVar("T")
_LOW_STOCK = TypeAdapter(list[LowStockProduct])


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

    async def build_json(self, user_id: int, *, with_stock_alerts: bool) -> bytes:
        """The `Dashboard` as the wire's JSON, composed of its parts' JSON: the orders' in one
        read (the top categories with them when there is no cache), the cached top
        categories, and for admins the products running low."""
        shown = self.settings
        top_in_orders = None if self.cache is not None else shown.top_categories
        # A TaskGroup, not a bare gather: if one read fails, the others are cancelled (and
        # their connections returned) instead of running on unobserved.
        async with asyncio.TaskGroup() as group:
            orders = group.create_task(
                self._read(
                    lambda session: OrderService(session).dashboard_json(
                        user_id, shown.recent_orders, top_in_orders
                    )
                )
            )
            cached_top = group.create_task(
                self._nothing() if self.cache is None else self._top_categories(self.cache)
            )
            low = group.create_task(
                self._read(
                    lambda session: CatalogService(session).low_stock(
                        shown.low_stock_threshold, shown.low_stock_items
                    )
                )
                if with_stock_alerts
                else self._nothing()
            )
        summary, recent, top = orders.result()
        best = top if top is not None else cached_top.result()
        if best is None:  # read with the orders without a cache, from it with one
            raise RuntimeError("the dashboard's top categories were not read")
        body = [b'{"orders":', summary, b',"recent_orders":', recent, b',"top_categories":', best]
        if (low_stock := low.result()) is not None:
            body += [b',"low_stock":', _LOW_STOCK.dump_json(low_stock)]
        return b"".join([*body, b"}"])

    async def _read(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        # A read session: each read is one statement, so no BEGIN/COMMIT round trips.
        async with self.database.read_session() as session:
            return await read(session)

    async def _top_categories(self, cache: CacheBackend) -> bytes:
        async def load() -> bytes:
            top = await self._read(
                lambda session: OrderService(session).top_categories(self.settings.top_categories)
            )
            return TOP_CATEGORIES.dump_json(top)

        return await cache.get_or_load(
            "dashboard:top_categories",
            load,
            ttl=self.settings.top_categories_ttl_seconds,
            tags=(CATALOG_TAG,),  # a renamed or deleted category shows at once
        )

    @staticmethod
    async def _nothing() -> None:
        return None
