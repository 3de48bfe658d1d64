"""All catalog SQL. Hot paths (listing, detail, search, stock) use SQLAlchemy Core: the ORM's
identity map and instance construction cost several times more CPU per request."""

from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import table_of
from apiforge.shop.catalog.models import Product
from apiforge.shop.catalog.schemas import StockLine

products = table_of(Product)


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_stock(self, product_ids: Sequence[int]) -> dict[int, StockLine]:
        """Lock the live (not archived) products' rows in id order, so two orders touching the
        same products always lock them in the same order and cannot deadlock. On SQLite the
        writer's BEGIN IMMEDIATE already serialises writers."""
        query = (
            select(products.c.id, products.c.name, products.c.price_minor, products.c.stock)
            .where(products.c.id.in_(sorted(set(product_ids))), products.c.is_archived.is_(False))
            .order_by(products.c.id)
            .with_for_update()
        )
        rows = (await self.session.execute(query)).all()
        return {row.id: StockLine(row.id, row.name, row.price_minor, row.stock) for row in rows}

    async def adjust_stock(self, deltas: Mapping[int, int]) -> None:
        """Add each delta (negative to take) to its product's stock, in one statement."""
        if not deltas:
            return
        ids = sorted(deltas)
        new_stock = products.c.stock + case(
            {
                product_id: bindparam(f"d{i}", deltas[product_id])
                for i, product_id in enumerate(ids)
            },
            value=products.c.id,
            else_=0,
        )
        await self.session.execute(
            update(products).where(products.c.id.in_(ids)).values(stock=new_stock)
        )
