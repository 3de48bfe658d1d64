"""All orders SQL, in SQLAlchemy Core: order create and "my orders" are hot paths, and the
ORM's identity map and relationship loading cost several times more CPU per request.

The hot statements are built once, at import, with bind parameters: building a `select()` and
its cache key on every call costs about a third of a one-row read (scripts/micro/statements.py;
BENCHMARKS.md, "Hot-path decisions"). On PostgreSQL the hottest paths run the statements of
`postgres.py` by the driver instead (issue 12)."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Row,
    RowMapping,
    bindparam,
    case,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    TenantScope,
    cross_tenant,
    is_postgres,
    scoped,
    table_of,
    utcnow,
)
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine, OrderMail
from apiforge.shop.orders.repository.postgres import (
    BEFORE_EVERY_ID,
    DASHBOARD,
    DASHBOARD_WITH_TOP,
    PAGE_JSON,
    PLACE,
)
from apiforge.shop.orders.schemas import OrderStatus

orders = table_of(Order)
order_lines = table_of(OrderLine)
products = table_of(Product)
categories = table_of(Category)

# A result row of any width: the columns are read by name (`row.total_minor`).
AnyRow = Row[*tuple[Any, ...]]

_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.organization_id,
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
PERSONAL = TenantScope(None)
_SCOPES = (False, True)  # personal or not: a personal order is also filtered by its user
_MINE = orders.c.user_id == bindparam("user_id")
_BY_ID = orders.c.id == bindparam("order_id")

_INSERT_ORDER = {
    personal: scoped(insert(orders).returning(*_ORDER_COLUMNS), orders, personal=personal)
    for personal in _SCOPES
}
_INSERT_LINES = insert(order_lines)
# By id whatever its tenant: the order's own tenant then decides who may see it.
_ANY_BY_ID = cross_tenant(
    select(*_ORDER_COLUMNS).where(_BY_ID),
    reason="an order by id: its organization (or placer) decides who may see it",
)
_LOCK_ANY_BY_ID = cross_tenant(
    select(*_ORDER_COLUMNS).where(_BY_ID).with_for_update(),
    reason="an order by id: its organization (or placer) decides who may cancel it",
)
_MARK_CANCELLED = {
    personal: scoped(
        update(orders)
        .where(_BY_ID)
        .values(status="cancelled", cancelled_at=bindparam("at"))
        .returning(*_ORDER_COLUMNS),
        orders,
        personal=personal,
    )
    for personal in _SCOPES
}
_MARK_PAID = {
    personal: scoped(
        update(orders).where(_BY_ID).values(status="paid", paid_at=bindparam("at")),
        orders,
        personal=personal,
    )
    for personal in _SCOPES
}
_NEWEST = select(*_ORDER_COLUMNS).order_by(orders.c.id.desc()).limit(bindparam("limit"))
_RESUME = orders.c.id < bindparam("before_id")
# Keyed by (personal, resuming from a cursor's `before_id`).
_PAGES = {
    (personal, resuming): scoped(
        _NEWEST.where(*((_MINE,) if personal else ()), *((_RESUME,) if resuming else ())),
        orders,
        personal=personal,
    )
    for personal in _SCOPES
    for resuming in (False, True)
}
# Everyone's orders, of every organization (a platform admin's view), keyed by (filtered by
# user, resuming).
_ALL_PAGES = {
    (by_user, resuming): cross_tenant(
        _NEWEST.where(*((_MINE,) if by_user else ()), *((_RESUME,) if resuming else ())),
        reason="the platform admin's listing of every order",
    )
    for by_user in (False, True)
    for resuming in (False, True)
}
_LINES_OF = (
    select(*_LINE_COLUMNS)
    .where(order_lines.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(order_lines.c.order_id, order_lines.c.id)
)

# Units sold are summed per product first, then per category: joining every line to its
# product and category before grouping cost ~7x more (28 ms against 4 ms over 6,000 lines on
# the bench's database, EXPLAIN ANALYZE), and this is the dashboard's dominant cost uncached.
# It still reads every placed or paid line: TODO(issue 12) a per-product sales rollup kept by the
# order events would make it independent of the order history's size.
_SOLD = (
    select(order_lines.c.product_id, func.sum(order_lines.c.quantity).label("units"))
    .join(orders, orders.c.id == order_lines.c.order_id)
    .where(orders.c.status != "cancelled")  # placed and paid: sales
    .group_by(order_lines.c.product_id)
    .subquery("sold")
)
_UNITS_SOLD = cast(func.sum(_SOLD.c.units), BigInteger).label("units_sold")
_TOP_CATEGORIES = cross_tenant(
    select(categories.c.id, categories.c.name, _UNITS_SOLD)
    .select_from(_SOLD)
    .join(products, products.c.id == _SOLD.c.product_id)
    .join(categories, categories.c.id == products.c.category_id)
    .group_by(categories.c.id, categories.c.name)
    .order_by(_UNITS_SOLD.desc(), categories.c.id)
    .limit(bindparam("limit")),
    reason="best-selling categories count every order, anonymously",
)


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    product_id: int
    product_name: str
    quantity: int
    unit_price_minor: int


class OrderRow(NamedTuple):
    """An order as `_ORDER_COLUMNS` has it, from a driver query."""

    id: int
    organization_id: int | None
    user_id: int | None
    status: OrderStatus
    total_minor: int
    created_at: datetime
    cancelled_at: datetime | None


class OrderRepository:
    """Orders of one scope (a user's own, or an organization's): every statement on the
    orders table is scoped to it, except those that look an order up by id across tenants
    (its tenant then decides access) and the platform-wide ones, which say so."""

    def __init__(self, session: AsyncSession, scope: TenantScope = PERSONAL) -> None:
        self.session = session
        self.personal = scope.personal
        self.params = scope.params
        self.tenant_id = scope.tenant_id

    async def add(self, *, user_id: int | None, api_key_id: str | None, total_minor: int) -> AnyRow:
        values = {
            **self.params,
            "user_id": user_id,
            "api_key_id": api_key_id,
            "total_minor": total_minor,
            "status": "placed",
        }
        return (await self.session.execute(_INSERT_ORDER[self.personal], values)).one()

    async def add_with_lines(
        self,
        *,
        user_id: int | None,
        api_key_id: str | None,
        total_minor: int,
        lines: Sequence[NewOrderLine],
    ) -> AnyRow | OrderRow:
        """`add` and `add_lines` in one statement on PostgreSQL (in the scope's tenant, as the
        scoped insert would: RLS checks it too), two elsewhere."""
        if not is_postgres(self.session):
            row = await self.add(user_id=user_id, api_key_id=api_key_id, total_minor=total_minor)
            await self.add_lines(row.id, lines)
            return row
        placed = await PLACE.row(
            self.session,
            self.tenant_id,
            user_id,
            api_key_id,
            total_minor,
            utcnow(),
            [line.product_id for line in lines],
            [line.product_name for line in lines],
            [line.quantity for line in lines],
            [line.unit_price_minor for line in lines],
        )
        if placed is None:  # an INSERT ... RETURNING of one row answers it
            raise RuntimeError("the order's insert returned no row")
        return OrderRow(*placed)

    async def add_lines(self, order_id: int, lines: Sequence[NewOrderLine]) -> None:
        """One executemany for all the lines; they get ids in the given order, which is the
        order they are read back in."""
        rows = [{"order_id": order_id, **asdict(line)} for line in lines]
        await self.session.execute(_INSERT_LINES, rows)

    async def find(self, order_id: int, *, lock: bool = False) -> AnyRow | None:
        """The order with this id, whoever owns it (the caller checks access), its row locked
        until the transaction ends with `lock` (a concurrent cancel then waits and sees it
        cancelled)."""
        statement = _LOCK_ANY_BY_ID if lock else _ANY_BY_ID
        return (await self.session.execute(statement, {"order_id": order_id})).one_or_none()

    async def mark_cancelled(self, order_id: int, at: datetime) -> AnyRow:
        params = {**self.params, "order_id": order_id, "at": at}
        return (await self.session.execute(_MARK_CANCELLED[self.personal], params)).one()

    async def mark_paid(self, order_id: int, at: datetime) -> None:
        params = {**self.params, "order_id": order_id, "at": at}
        await self.session.execute(_MARK_PAID[self.personal], params)

    async def page(
        self, *, user_id: int | None, before_id: int | None, limit: int
    ) -> Sequence[AnyRow]:
        """Newest first, keyset on id (ids only grow): a user's own orders on the
        (user_id, id) index, an organization's on (organization_id, id)."""
        query = _PAGES[(self.personal, before_id is not None)]
        params = {**self.params, "limit": limit, "user_id": user_id, "before_id": before_id}
        return (await self.session.execute(query, params)).all()

    @property
    def renders_json(self) -> bool:
        """Whether `page_json` is available (PostgreSQL)."""
        return is_postgres(self.session)

    async def page_json(
        self, *, user_id: int | None, before_id: int | None, limit: int
    ) -> tuple[str, int | None, bool]:
        """`page` with the orders' lines, as the wire's JSON array text (`renders_json`
        only): up to `limit` orders, the last one's id and whether more follow."""
        owner = user_id if self.personal else self.tenant_id
        before = BEFORE_EVERY_ID if before_id is None else before_id
        row = await PAGE_JSON[self.personal].row(self.session, owner, before, limit)
        if row is None:  # an aggregate always answers one row
            return "[]", None, False
        return row[0], row[1], row[2]

    async def page_all(
        self, *, user_id: int | None, before_id: int | None, limit: int
    ) -> Sequence[AnyRow]:
        """Every order, of every organization and user (the platform admin's view)."""
        query = _ALL_PAGES[(user_id is not None, before_id is not None)]
        params = {"limit": limit, "user_id": user_id, "before_id": before_id}
        return (await self.session.execute(query, params)).all()

    async def lines_of(self, order_ids: Sequence[int]) -> Sequence[AnyRow]:
        """The lines of all `order_ids` in one query, in each order's line order."""
        if not order_ids:
            return []
        return (await self.session.execute(_LINES_OF, {"order_ids": list(order_ids)})).all()

    async def summary(self, user_id: int) -> AnyRow:
        """(order_count, spent_minor) of the user's own orders, in one aggregate."""
        spent = func.coalesce(
            func.sum(case((orders.c.status != "cancelled", orders.c.total_minor), else_=0)), 0
        )
        query = scoped(
            select(func.count().label("order_count"), spent.label("spent_minor")).where(_MINE),
            orders,
            personal=True,
        )
        return (await self.session.execute(query, {"user_id": user_id})).one()

    async def dashboard_json(
        self, user_id: int, recent: int, top: int | None
    ) -> tuple[str, str, str | None]:
        """`summary`, the `recent` newest of `page` and (unless `top` is None) `top_categories`
        as the wire's JSON texts, in one statement (`renders_json` only)."""
        if top is None:
            row = await DASHBOARD.row(self.session, user_id, recent)
        else:
            row = await DASHBOARD_WITH_TOP.row(self.session, user_id, recent, top)
        if row is None:  # a SELECT of subqueries always answers one row
            raise RuntimeError("the dashboard's statement returned no row")
        return row[0], row[1], None if top is None else row[2]

    async def top_categories(self, limit: int) -> Sequence[RowMapping]:
        """Categories by units sold in placed (not cancelled) orders of everyone, most first.
        Sales are the orders' to count; the catalog's tables only name the categories (orders
        may know the catalog, never the other way round)."""
        return (await self.session.execute(_TOP_CATEGORIES, {"limit": limit})).mappings().all()


class OrderedProductRepository:
    """Which organizations ordered which products (the low-stock digest's relevance)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def organizations_of(self, product_ids: Sequence[int]) -> dict[int, set[int]]:
        """Per organization, the products among `product_ids` it has ever ordered."""
        if not product_ids:
            return {}
        statement = cross_tenant(
            select(orders.c.organization_id, order_lines.c.product_id)
            .distinct()
            .join(order_lines, order_lines.c.order_id == orders.c.id)
            .where(
                orders.c.organization_id.is_not(None),
                order_lines.c.product_id.in_(product_ids),
            ),
            reason="the daily digest goes to every organization that ordered a product",
        )
        found: dict[int, set[int]] = {}
        for organization_id, product_id in (await self.session.execute(statement)).all():
            found.setdefault(organization_id, set()).add(product_id)
        return found


class OrderMailRepository:
    """Which confirmation mails went out (kit-free bookkeeping of the mail job)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def was_sent(self, order_id: int, event: str) -> bool:
        statement = select(OrderMail.id).where(
            OrderMail.order_id == order_id, OrderMail.event == event
        )
        return (await self.session.execute(statement)).first() is not None

    async def note_sent(self, order_id: int, event: str, at: datetime) -> None:
        """Idempotent: a second note of the same pair changes nothing."""
        if await self.was_sent(order_id, event):
            return
        self.session.add(OrderMail(order_id=order_id, event=event, sent_at=at))
        await self.session.flush()
