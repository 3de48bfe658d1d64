"""Order rules: placing (stock checked and taken in the same transaction), reading, cancelling,
for a user's own orders and for an organization's. The catalog is reached only through
`CatalogService`. Flushes, never commits: the request's unit of work commits before the
response is sent. Who may act on an existing order is the caller's `OrderGate` (the router
knows principals; the service knows orders)."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import orjson
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    JobQueue,
    Principal,
    TenantScope,
    bind_tenant,
    decode_cursor,
    encode_cursor,
    format_minor,
    utcnow,
)
from apiforge.shop.catalog.schemas import DEFAULT_LOW_STOCK_THRESHOLD, CategorySales, StockLine
from apiforge.shop.catalog.service import CatalogService
from apiforge.shop.events.schemas import ORDER, ORDER_CANCELLED, ORDER_PAID, ORDER_PLACED
from apiforge.shop.events.service import EventLog
from apiforge.shop.orders.errors import (
    AlreadyCancelledError,
    AlreadyPaidError,
    InsufficientStockError,
    NotPayableError,
    OrderNotFoundError,
    PaymentAmountMismatchError,
    ProductUnavailableError,
)
from apiforge.shop.orders.jobs import send_confirmation
from apiforge.shop.orders.repository import AnyRow, NewOrderLine, OrderRepository, OrderRow
from apiforge.shop.orders.schemas import (
    OrderCreate,
    OrderJSON,
    OrderLineJSON,
    OrderLineRead,
    OrderRead,
    OrdersPageJSON,
    OrderStatus,
    OrderSummary,
    RecentOrder,
    order_event_data,
)

CURSOR_KIND = "orders"
TOP_CATEGORIES = TypeAdapter(list[CategorySales])
_RECENT = TypeAdapter(list[RecentOrder])


@dataclass(frozen=True, slots=True)
class OrderOwner:
    """Whose orders a request works on: a user's own (`scope` personal, `user_id` theirs) or
    an organization's (`scope` the organization; `user_id` or `api_key_id` who acts)."""

    scope: TenantScope
    user_id: int | None = None
    api_key_id: str | None = None

    @classmethod
    def personal(cls, user_id: int) -> "OrderOwner":
        return cls(TenantScope(None), user_id=user_id)

    @classmethod
    def organization(cls, organization_id: int, principal: Principal) -> "OrderOwner":
        return cls(
            TenantScope(organization_id),
            user_id=principal.row_id if not principal.is_api_key else None,
            api_key_id=principal.api_key_id,
        )


# Decides who may act on an existing order, given its organization (None: personal) and
# placer: the owner to act as, None when the caller may not know the order exists (its 404),
# or a raised 403 when they may see it but not do this.
OrderGate = Callable[[int | None, int | None], Awaitable[OrderOwner | None]]


class OrderService:
    """`jobs`: where the confirmation mails are queued (after the commit); None sends none
    (the dashboard's reads, a CLI). `low_stock_threshold`: see `CatalogService` (orders
    taking stock record `stock.low`)."""

    def __init__(
        self,
        session: AsyncSession,
        jobs: JobQueue | None = None,
        *,
        low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD,
    ) -> None:
        self.session = session
        self.catalog = CatalogService(session, low_stock_threshold=low_stock_threshold)
        self.events = EventLog(session)
        self.jobs = jobs

    async def _record(self, event_type: str, order: OrderRead) -> None:
        """Record `order.*` for `order` as it is now (after the change, which holds the
        order's row: its events are published in commit order)."""
        await self.events.record(event_type, ORDER, order.id, order_event_data(order))

    def _confirm(self, order_id: int, event: str) -> None:
        if self.jobs is not None:
            self.jobs.enqueue(self.session, send_confirmation, order_id=order_id, event=event)

    async def _bind(self, owner: OrderOwner) -> OrderRepository:
        await bind_tenant(self.session, owner.scope)
        return OrderRepository(self.session, owner.scope)

    async def place(self, owner: OrderOwner, order: OrderCreate) -> OrderRead:
        """Lock the products (in id order: no deadlock between multi-product orders) and take
        the stock if all of it is there (one statement on PostgreSQL), check them, then write
        the order with its lines (one statement on PostgreSQL); a refusal writes nothing."""
        orders = await self._bind(owner)
        wanted = {item.product_id: item.quantity for item in order.items}
        # Takes the stock only if all of it is there; a refusal took nothing.
        locked = await self.catalog.take_for_order(wanted)
        _check_available(wanted, locked)
        lines = [
            NewOrderLine(pid, locked[pid].name, quantity, locked[pid].price_minor)
            for pid, quantity in wanted.items()
        ]
        total = sum(line.unit_price_minor * line.quantity for line in lines)
        row = await orders.add_with_lines(
            user_id=owner.user_id, api_key_id=owner.api_key_id, total_minor=total, lines=lines
        )
        placed = _order_read(row, [_line_read(line) for line in lines])
        await self._record(ORDER_PLACED, placed)
        self._confirm(row.id, "placed")
        return placed

    async def get(self, order_id: int, gate: OrderGate) -> OrderRead:
        """The order, if `gate` lets the caller see it (else its 404 or 403)."""
        row = await OrderRepository(self.session).find(order_id)
        if row is None or await gate(row.organization_id, row.user_id) is None:
            raise OrderNotFoundError(order_id)
        return (await self._with_lines([row]))[0]

    async def cancel(self, order_id: int, gate: OrderGate) -> OrderRead:
        row = await OrderRepository(self.session).find(order_id, lock=True)
        owner = None if row is None else await gate(row.organization_id, row.user_id)
        if row is None or owner is None:
            raise OrderNotFoundError(order_id)
        orders = await self._bind(owner)
        if row.status == "cancelled":
            raise AlreadyCancelledError(order_id)
        if row.status == "paid":
            raise AlreadyPaidError(order_id)
        lines = await orders.lines_of([order_id])
        returned = {line.product_id: line.quantity for line in lines}
        # Lock the products in id order, as placing does, before updating them: an UPDATE
        # locks rows in whatever order its plan visits them, which could deadlock with a
        # concurrent order holding the same products.
        await self.catalog.lock_for_order(list(returned))
        await self.catalog.return_stock(returned)
        cancelled = await orders.mark_cancelled(order_id, utcnow())
        read = _order_read(cancelled, [_line_read(line) for line in lines])
        await self._record(ORDER_CANCELLED, read)
        self._confirm(order_id, "cancelled")
        return read

    async def mark_paid(self, order_id: int, amount_minor: int) -> bool:
        """The payment provider says `order_id` was paid `amount_minor`: the order becomes
        `paid` (True), or already was (False: a second confirmation changes nothing). Any
        order, whoever placed it: the provider's signature is the authority, not a principal.
        A cancelled order or a wrong amount is a 409."""
        row = await OrderRepository(self.session).find(order_id, lock=True)
        if row is None:
            raise OrderNotFoundError(order_id)
        if row.status == "cancelled":
            raise NotPayableError(order_id)
        if row.total_minor != amount_minor:
            raise PaymentAmountMismatchError(order_id)
        if row.status == "paid":
            return False
        owner = OrderOwner(TenantScope(row.organization_id), user_id=row.user_id)
        orders = await self._bind(owner)
        await orders.mark_paid(order_id, utcnow())
        paid = await OrderRepository(self.session).find(order_id)
        assert paid is not None  # locked above, in this transaction
        lines = await orders.lines_of([order_id])
        await self._record(ORDER_PAID, _order_read(paid, [_line_read(line) for line in lines]))
        self._confirm(order_id, "paid")
        return True

    async def status_of(self, order_id: int) -> OrderStatus:
        """The order's status, whoever placed it (for a signed provider event); 404 if none."""
        row = await OrderRepository(self.session).find(order_id)
        if row is None:
            raise OrderNotFoundError(order_id)
        status: OrderStatus = row.status
        return status

    async def list_page(
        self, owner: OrderOwner, *, cursor: str | None, limit: int
    ) -> OrdersPageJSON:
        """Newest first, with their items, in two queries whatever `limit` is."""
        orders = await self._bind(owner)
        before_id = _before_id(cursor)
        rows = await orders.page(user_id=owner.user_id, before_id=before_id, limit=limit + 1)
        return await self._page(orders, rows, limit)

    async def page_json(self, owner: OrderOwner, *, cursor: str | None, limit: int) -> bytes:
        """`list_page` rendered: by PostgreSQL in one statement where it can (the tenant
        bound first, so RLS applies as to the portable path), else by orjson."""
        orders = await self._bind(owner)
        if not orders.renders_json:
            return render_page(await self.list_page(owner, cursor=cursor, limit=limit))
        items, last_id, more = await orders.page_json(
            user_id=owner.user_id, before_id=_before_id(cursor), limit=limit
        )
        next_cursor = encode_cursor(CURSOR_KIND, last_id) if more else None
        return b'{"items":' + items.encode() + b',"next_cursor":' + orjson.dumps(next_cursor) + b"}"

    async def list_all(
        self, *, user_id: int | None, cursor: str | None, limit: int
    ) -> OrdersPageJSON:
        """Everyone's orders, newest first (the platform admin's view), optionally one
        user's (placed by them, personal or for an organization)."""
        orders = OrderRepository(self.session)
        rows = await orders.page_all(user_id=user_id, before_id=_before_id(cursor), limit=limit + 1)
        return await self._page(orders, rows, limit)

    async def _page(
        self, orders: OrderRepository, rows: Sequence[AnyRow], limit: int
    ) -> OrdersPageJSON:
        has_more = len(rows) > limit
        page = rows[:limit]
        lines_by_order: defaultdict[int, list[OrderLineJSON]] = defaultdict(list)
        for line in await orders.lines_of([row.id for row in page]):
            lines_by_order[line.order_id].append(_line_json(line))
        items = [_order_json(row, lines_by_order[row.id]) for row in page]
        next_cursor = encode_cursor(CURSOR_KIND, page[-1].id) if has_more else None
        return {"items": items, "next_cursor": next_cursor}

    # -- the dashboard's reads: one query each, or all of them in one (`dashboard_json`)

    async def dashboard_json(
        self, user_id: int, recent: int, top: int | None
    ) -> tuple[bytes, bytes, bytes | None]:
        """`summary`, `recent` and (unless `top` is None) `top_categories` as the wire's JSON:
        built by PostgreSQL in one statement where it can, else three queries rendered by
        pydantic."""
        orders = OrderRepository(self.session)
        if orders.renders_json:
            summary, newest, best = await orders.dashboard_json(user_id, recent, top)
            return summary.encode(), newest.encode(), None if best is None else best.encode()
        top_json = None if top is None else TOP_CATEGORIES.dump_json(await self.top_categories(top))
        return (
            (await self.summary(user_id)).model_dump_json().encode(),
            _RECENT.dump_json(await self.recent(user_id, recent)),
            top_json,
        )

    async def summary(self, user_id: int) -> OrderSummary:
        """The user's own (personal) orders: count and spend."""
        row = await OrderRepository(self.session).summary(user_id)
        # PostgreSQL sums a bigint into a numeric (a Decimal here).
        return OrderSummary.model_construct(count=row.order_count, total_spent=int(row.spent_minor))

    async def top_categories(self, limit: int) -> list[CategorySales]:
        """The best-selling categories (units in placed and paid orders), for everybody alike."""
        rows = await OrderRepository(self.session).top_categories(limit)
        return [CategorySales.model_construct(**row) for row in rows]

    async def recent(self, user_id: int, limit: int) -> list[RecentOrder]:
        """The user's newest own (personal) orders, without their lines."""
        orders = OrderRepository(self.session)
        rows = await orders.page(user_id=user_id, before_id=None, limit=limit)
        return [
            RecentOrder.model_construct(
                id=row.id, status=row.status, total=row.total_minor, created_at=row.created_at
            )
            for row in rows
        ]

    async def _with_lines(self, rows: Sequence[AnyRow]) -> list[OrderRead]:
        lines_by_order: defaultdict[int, list[OrderLineRead]] = defaultdict(list)
        for line in await OrderRepository(self.session).lines_of([row.id for row in rows]):
            lines_by_order[line.order_id].append(_line_read(line))
        return [_order_read(row, lines_by_order[row.id]) for row in rows]


def render_page(page: OrdersPageJSON) -> bytes:
    """A listing as the wire's JSON bytes (times in UTC with a `Z`, as pydantic writes them)."""
    return orjson.dumps(page, option=orjson.OPT_UTC_Z)


def _before_id(cursor: str | None) -> int | None:
    return None if cursor is None else decode_cursor(cursor, CURSOR_KIND, (int,))[0]


def _check_available(wanted: dict[int, int], locked: dict[int, StockLine]) -> None:
    # Every product is checked before any is refused for stock, and in id order, so the same
    # request always gets the same error.
    for product_id in sorted(wanted):
        if product_id not in locked:
            raise ProductUnavailableError(product_id)
    for product_id in sorted(wanted):
        if locked[product_id].stock < wanted[product_id]:
            raise InsufficientStockError(product_id, wanted[product_id], locked[product_id].stock)


def _line_read(line: NewOrderLine | AnyRow) -> OrderLineRead:
    return OrderLineRead.model_construct(
        product_id=line.product_id,
        product_name=line.product_name,
        quantity=line.quantity,
        unit_price=line.unit_price_minor,
        line_total=line.unit_price_minor * line.quantity,
    )


def _line_json(line: AnyRow) -> OrderLineJSON:
    return {
        "product_id": line.product_id,
        "product_name": line.product_name,
        "quantity": line.quantity,
        "unit_price": format_minor(line.unit_price_minor),
        "line_total": format_minor(line.unit_price_minor * line.quantity),
    }


def _order_json(row: AnyRow, items: list[OrderLineJSON]) -> OrderJSON:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "status": row.status,
        "total": format_minor(row.total_minor),
        "created_at": row.created_at,
        "cancelled_at": row.cancelled_at,
        "items": items,
    }


def _order_read(row: AnyRow | OrderRow, items: list[OrderLineRead]) -> OrderRead:
    return OrderRead.model_construct(
        id=row.id,
        organization_id=row.organization_id,
        status=row.status,
        total=row.total_minor,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        items=items,
    )
