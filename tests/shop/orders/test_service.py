"""Order rules, through `OrderService` directly (no HTTP)."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category
from apiforge.shop.orders.errors import (
    AlreadyCancelledError,
    InsufficientStockError,
    OrderNotFoundError,
    ProductUnavailableError,
)
from apiforge.shop.orders.schemas import OrderCreate, OrderItemCreate
from apiforge.shop.orders.service import OrderService
from tests.factories import UserWithPassword, create_product
from tests.shop.orders.probes import count_orders, own, placer_gate, stock_of


def _order(*items: tuple[int, int]) -> OrderCreate:
    return OrderCreate(items=[OrderItemCreate(product_id=p, quantity=q) for p, q in items])


async def test_an_unavailable_product_is_reported_before_a_short_one(
    session: AsyncSession, category: Category, customer: UserWithPassword
) -> None:
    short = await create_product(session, category=category, stock=0)
    service = OrderService(session)

    with pytest.raises(ProductUnavailableError) as refused:
        await service.place(own(customer.id), _order((short.id, 1), (987654321, 1)))

    assert refused.value.extra == {"product_id": 987654321}


async def test_the_lowest_short_product_id_is_the_one_reported(
    session: AsyncSession, category: Category, customer: UserWithPassword
) -> None:
    low = await create_product(session, category=category, name="Low", stock=0)
    high = await create_product(session, category=category, name="High", stock=0)
    service = OrderService(session)

    with pytest.raises(InsufficientStockError) as refused:
        await service.place(own(customer.id), _order((high.id, 1), (low.id, 1)))

    assert refused.value.extra == {"product_id": low.id}
    assert await count_orders(session) == 0


async def test_the_price_is_the_one_at_the_time_of_the_order(
    session: AsyncSession, category: Category, customer: UserWithPassword
) -> None:
    product = await create_product(session, category=category, name="Lamp", price_minor=1000)
    service = OrderService(session)
    placed = await service.place(own(customer.id), _order((product.id, 2)))

    product.price_minor = 5000
    product.name = "Lamp (new model)"
    await session.flush()
    shown = await service.get(placed.id, placer_gate(customer.id))

    assert shown.total == 2000
    assert (shown.items[0].unit_price, shown.items[0].product_name) == (1000, "Lamp")


async def test_cancel_needs_the_owner_and_a_placed_order(
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
) -> None:
    product = await create_product(session, category=category, stock=3)
    service = OrderService(session)
    placed = await service.place(own(customer.id), _order((product.id, 3)))

    with pytest.raises(OrderNotFoundError):
        await service.cancel(placed.id, placer_gate(other_customer.id))
    assert await stock_of(session, product) == 0

    cancelled = await service.cancel(placed.id, placer_gate(customer.id))
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert await stock_of(session, product) == 3

    with pytest.raises(AlreadyCancelledError):
        await service.cancel(placed.id, placer_gate(customer.id))
    assert await stock_of(session, product) == 3


async def test_a_page_has_a_cursor_only_when_more_follow(
    session: AsyncSession, category: Category, customer: UserWithPassword
) -> None:
    product = await create_product(session, category=category, stock=10)
    service = OrderService(session)
    placed = [(await service.place(own(customer.id), _order((product.id, 1)))).id for _ in range(3)]

    first = await service.list_page(own(customer.id), cursor=None, limit=2)
    assert first["next_cursor"] is not None
    rest = await service.list_page(own(customer.id), cursor=first["next_cursor"], limit=2)

    assert [o["id"] for o in first["items"] + rest["items"]] == placed[::-1]
    assert rest["next_cursor"] is None
