"""Real concurrency on committed data: requests racing through the ASGI app, each on its own
connection. On PostgreSQL the product rows' FOR UPDATE locks decide the winner; on SQLite
BEGIN IMMEDIATE serialises the writers. Either way the rules must hold."""

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category
from tests.factories import UserWithPassword, create_product
from tests.shop.orders.probes import count_orders, place, place_ok, stock_of

pytestmark = pytest.mark.committed


async def test_two_buyers_race_for_the_last_unit(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    last = await create_product(session, category=category, name="Last one", stock=1)
    await session.commit()

    responses = await asyncio.gather(
        place(client, customer_headers, (last, 1)), place(client, other_headers, (last, 1))
    )

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "orders.insufficient_stock"
    assert await stock_of(session, last) == 0
    assert await count_orders(session) == 1


async def test_opposite_item_orders_do_not_deadlock(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    first = await create_product(session, category=category, name="First", stock=10)
    second = await create_product(session, category=category, name="Second", stock=10)
    await session.commit()

    rounds = 5
    for _ in range(rounds):
        responses = await asyncio.gather(
            place(client, customer_headers, (first, 1), (second, 1)),
            place(client, other_headers, (second, 1), (first, 1)),
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]

    assert (await stock_of(session, first), await stock_of(session, second)) == (0, 0)
    assert await count_orders(session) == 2 * rounds


async def test_cancelling_twice_at_once_restocks_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=5)
    await session.commit()
    order = await place_ok(client, customer_headers, (product, 3))

    url = f"/api/orders/{order['id']}/cancel"
    responses = await asyncio.gather(
        client.post(url, headers=customer_headers), client.post(url, headers=customer_headers)
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert await stock_of(session, product) == 5


async def test_cancel_racing_a_new_order_for_the_same_products(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    first = await create_product(session, category=category, name="First", stock=4)
    second = await create_product(session, category=category, name="Second", stock=4)
    await session.commit()
    order = await place_ok(client, customer_headers, (second, 2), (first, 2))

    cancel, placed = await asyncio.gather(
        client.post(f"/api/orders/{order['id']}/cancel", headers=customer_headers),
        place(client, other_headers, (second, 1), (first, 1)),
    )

    assert (cancel.status_code, placed.status_code) == (200, 201), (cancel.text, placed.text)
    assert (await stock_of(session, first), await stock_of(session, second)) == (3, 3)
