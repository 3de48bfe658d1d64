"""Catalog rules. Other domains reach the catalog only through this service."""

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.repository import ProductRepository
from apiforge.shop.catalog.schemas import StockLine


class CatalogService:
    def __init__(self, session: AsyncSession) -> None:
        self.products = ProductRepository(session)

    async def lock_for_order(self, product_ids: Sequence[int]) -> dict[int, StockLine]:
        """Live products among `product_ids`, locked until the transaction ends."""
        return await self.products.lock_stock(product_ids)

    async def take_stock(self, quantities: Mapping[int, int]) -> None:
        await self.products.adjust_stock({pid: -qty for pid, qty in quantities.items()})

    async def return_stock(self, quantities: Mapping[int, int]) -> None:
        await self.products.adjust_stock(dict(quantities))
