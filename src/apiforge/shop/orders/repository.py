"""All orders SQL, in SQLAlchemy Core: order create and "my orders" are hot paths, and the
ORM's identity map and relationship loading cost several times more CPU per request.

The hot statements are built once, at import, with bind parameters: building a `select()` and
its cache key on every call costs about a third of a one-row read (scripts/micro/statements.py;
BENCHMARKS.md, "Hot-path decisions")."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, RowMapping, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import table_of
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine

orders = table_of(Order)
order_lines = table_of(OrderLine)
products = table_of(Product)
categories = table_of(Category)

# A result row of any width: the columns are read by name (`row.total_minor`).
AnyRow = Row[*tuple[Any, ...]]

_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.user_id,
    orders.c.status,
    orders.c.total_minor,
    orders.c.created_at,
    orders.c.cancelled_at,
)
_LINE_COLUMNS = (
    order_lines.c.order_id,
    order_lines.c.product_id,
    order_lines.c.product_name,
    order_lines.c.quantity,
    order_lines.c.unit_price_minor,
)


_INSERT_ORDER = insert(orders).returning(*_ORDER_COLUMNS)
_INSERT_LINES = insert(order_lines)
_GET = select(*_ORDER_COLUMNS).where(
    orders.c.id == bindparam("order_id"), orders.c.user_id == bindparam("user_id")
)
_NEWEST = select(*_ORDER_COLUMNS).order_by(orders.c.id.desc()).limit(bindparam("limit"))
# Keyed by (filtered by user, resuming from a cursor's `before_id`).
_PAGES = {
    (by_user, resuming): _NEWEST.where(
        *((orders.c.user_id == bindparam("user_id"),) if by_user else ()),
        *((orders.c.id < bindparam("before_id"),) if resuming else ()),
    )
    for by_user in (False, True)
    for resuming in (False, True)
}
_LINES_OF = (
    select(*_LINE_COLUMNS)
    .where(order_lines.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(order_lines.c.order_id, order_lines.c.id)
)


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    product_id: int
    product_name: str
    quantity: int
    unit_price_minor: int


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: int, total_minor: int) -> AnyRow:
        values = {"user_id": user_id, "total_minor": total_minor, "status": "placed"}
        return (await self.session.execute(_INSERT_ORDER, values)).one()

    async def add_lines(self, order_id: int, lines: Sequence[NewOrderLine]) -> None:
        """One executemany for all the lines; they get ids in the given order, which is the
        order they are read back in."""
        rows = [{"order_id": order_id, **asdict(line)} for line in lines]
        await self.session.execute(_INSERT_LINES, rows)

    async def get(self, order_id: int, user_id: int) -> AnyRow | None:
        params = {"order_id": order_id, "user_id": user_id}
        return (await self.session.execute(_GET, params)).one_or_none()

    async def lock(self, order_id: int, user_id: int) -> AnyRow | None:
        """The caller's order, its row locked until the transaction ends, so a concurrent
        cancel of the same order waits and then sees it cancelled. Someone else's order is
        neither returned nor locked."""
        query = (
            select(*_ORDER_COLUMNS)
            .where(orders.c.id == order_id, orders.c.user_id == user_id)
            .with_for_update()
        )
        return (await self.session.execute(query)).one_or_none()

    async def mark_cancelled(self, order_id: int, at: datetime) -> AnyRow:
        query = (
            update(orders)
            .where(orders.c.id == order_id)
            .values(status="cancelled", cancelled_at=at)
            .returning(*_ORDER_COLUMNS)
        )
        return (await self.session.execute(query)).one()

    async def page(
        self, *, user_id: int | None, before_id: int | None, limit: int
    ) -> Sequence[AnyRow]:
        """Newest first, keyset on id (ids only grow), on the (user_id, id) index when
        filtered by user, the primary key otherwise."""
        query = _PAGES[(user_id is not None, before_id is not None)]
        params = {"limit": limit, "user_id": user_id, "before_id": before_id}
        return (await self.session.execute(query, params)).all()

    async def lines_of(self, order_ids: Sequence[int]) -> Sequence[AnyRow]:
        """The lines of all `order_ids` in one query, in each order's line order."""
        if not order_ids:
            return []
        return (await self.session.execute(_LINES_OF, {"order_ids": list(order_ids)})).all()

    async def summary(self, user_id: int) -> AnyRow:
        """(order_count, spent_minor) of the user's orders, in one aggregate over their index."""
        spent = func.coalesce(
            func.sum(case((orders.c.status == "placed", orders.c.total_minor), else_=0)), 0
        )
        query = select(func.count().label("order_count"), spent.label("spent_minor")).where(
            orders.c.user_id == user_id
        )
        return (await self.session.execute(query)).one()

    async def top_categories(self, limit: int) -> Sequence[RowMapping]:
        """Categories by units sold in placed (not cancelled) orders, most first. Sales are
        the orders' to count; the catalog's tables only name the categories (orders may know
        the catalog, never the other way round)."""
        units = func.sum(order_lines.c.quantity).label("units_sold")
        statement = (
            select(categories.c.id, categories.c.name, units)
            .select_from(order_lines)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .join(products, products.c.id == order_lines.c.product_id)
            .join(categories, categories.c.id == products.c.category_id)
            .where(orders.c.status == "placed")
            .group_by(categories.c.id, categories.c.name)
            .order_by(units.desc(), categories.c.id)
            .limit(limit)
        )
        return (await self.session.execute(statement)).mappings().all()
