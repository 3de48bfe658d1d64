"""Listings: my orders and everyone's (admin), newest first, keyset-paginated, with items;
and the fixed number of SQL statements behind each request (no N+1)."""

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, TenantScope, cross_tenant, encode_cursor, table_of
from apiforge.kit.testing import count_queries
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order
from apiforge.shop.orders.schemas import OrderCreate, OrderItemCreate
from apiforge.shop.orders.service import OrderOwner, OrderService, render_page
from tests.factories import UserWithPassword, create_organization, create_product, warm_identity
from tests.shop.orders.probes import own, place, place_ok, placer_gate, walk_pages

# The cursor query parameter's bound (PageCursor: max_length 512).
MAX_CURSOR_LENGTH = 512


async def _products(session: AsyncSession, category: Category, count: int) -> list[Product]:
    return [
        await create_product(
            session, category=category, name=f"Item {i}", price_minor=100 + i, stock=10_000
        )
        for i in range(count)
    ]


async def _orders(
    session: AsyncSession, user: UserWithPassword, products: list[Product], count: int
) -> list[int]:
    """`count` orders of `user`, each with a line per product, placed through the service."""
    service = OrderService(session)
    body = OrderCreate(
        items=[OrderItemCreate(product_id=p.id, quantity=1 + i) for i, p in enumerate(products)]
    )
    return [(await service.place(own(user.id), body)).id for _ in range(count)]


def _ids(pages: list[list[dict[str, Any]]]) -> list[int]:
    return [order["id"] for page in pages for order in page]


async def test_my_orders_walk_every_page_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    products = await _products(session, category, 2)
    mine = await _orders(session, customer, products, 7)
    theirs = await _orders(session, other_customer, products, 3)

    pages = await walk_pages(client, "/api/orders", customer_headers, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert _ids(pages) == sorted(mine, reverse=True)
    assert not set(_ids(pages)) & set(theirs)
    first = pages[0][0]
    assert first["status"] == "placed"
    assert first["total"] == "3.02"  # 1 x 1.00 + 2 x 1.01
    assert [item["quantity"] for item in first["items"]] == [1, 2]


async def test_a_page_exactly_full_has_no_next_cursor_after_the_last(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    mine = await _orders(session, customer, await _products(session, category, 1), 4)

    pages = await walk_pages(client, "/api/orders", customer_headers, limit=2)

    assert [len(page) for page in pages] == [2, 2]
    assert _ids(pages) == sorted(mine, reverse=True)


async def test_no_orders_is_an_empty_page(
    client: httpx.AsyncClient, customer_headers: dict[str, str]
) -> None:
    response = await client.get("/api/orders", headers=customer_headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_someone_elses_order_is_not_in_my_list(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=5)
    theirs = await place_ok(client, other_headers, (product, 1))
    mine = await place_ok(client, customer_headers, (product, 1))

    response = await client.get("/api/orders", headers=customer_headers)

    assert [order["id"] for order in response.json()["items"]] == [mine["id"]]
    assert theirs["id"] != mine["id"]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": ""},
        {"cursor": encode_cursor("products", 5)},
        {"cursor": encode_cursor("orders", "5")},
        {"cursor": base64.urlsafe_b64encode(f'["orders",{2**70}]'.encode()).decode()},
        {"cursor": "x" * 600},
        {"cursor": "é\u0000"},
    ],
    ids=["garbage", "empty", "other-listing", "wrong-type", "huge-id", "too-long", "odd-text"],
)
async def test_bad_cursor_is_422(
    client: httpx.AsyncClient, customer_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/api/orders", params=params, headers=customer_headers)
    assert response.status_code == 422, response.text
    assert ["query", "cursor"] in [error["loc"] for error in response.json()["errors"]]
    too_long = len(params["cursor"]) > MAX_CURSOR_LENGTH  # refused by the query's max_length
    expected = "request.validation_failed" if too_long else "request.invalid_cursor"
    assert response.json()["code"] == expected


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many", str(2**70)])
async def test_limit_outside_1_to_100_is_422(
    client: httpx.AsyncClient, customer_headers: dict[str, str], limit: str
) -> None:
    response = await client.get("/api/orders", params={"limit": limit}, headers=customer_headers)
    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"
    assert ["query", "limit"] in [error["loc"] for error in response.json()["errors"]]


async def test_admin_lists_everyones_orders_and_can_filter_by_user(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    admin_headers: dict[str, str],
) -> None:
    products = await _products(session, category, 1)
    mine = await _orders(session, customer, products, 3)
    theirs = await _orders(session, other_customer, products, 2)

    everyone = await walk_pages(client, "/api/admin/orders", admin_headers, limit=2)
    only_theirs = await walk_pages(
        client, "/api/admin/orders", admin_headers, limit=1, user_id=other_customer.id
    )

    assert _ids(everyone) == sorted(mine + theirs, reverse=True)
    assert _ids(only_theirs) == sorted(theirs, reverse=True)


async def test_admin_listing_is_forbidden_to_customers(
    client: httpx.AsyncClient, customer_headers: dict[str, str]
) -> None:
    response = await client.get("/api/admin/orders", headers=customer_headers)
    assert response.status_code == 403
    assert response.json()["code"] == "auth.permission_denied"


@pytest.mark.parametrize("user_id", ["0", str(2**63), "me"])
async def test_admin_filter_by_bad_user_id_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_id: str
) -> None:
    response = await client.get(
        "/api/admin/orders", params={"user_id": user_id}, headers=admin_headers
    )
    assert response.status_code == 422


async def _list_statements(
    client: httpx.AsyncClient, database: Database, url: str, headers: dict[str, str]
) -> tuple[int, list[str]]:
    await warm_identity(client, headers)
    with count_queries(database.engine) as queries:
        response = await client.get(url, params={"limit": 100}, headers=headers)
    assert response.status_code == 200
    return len(response.json()["items"]), queries.data_statements


async def test_listing_costs_two_queries_whatever_the_page_size(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    category: Category,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
    admin_headers: dict[str, str],
    is_postgres: bool,
) -> None:
    products = await _products(session, category, 4)
    await _orders(session, customer, products, 2)
    await _orders(session, other_customer, products, 20)

    few, few_statements = await _list_statements(client, database, "/api/orders", customer_headers)
    many, many_statements = await _list_statements(client, database, "/api/orders", other_headers)
    everyone, admin_statements = await _list_statements(
        client, database, "/api/admin/orders", admin_headers
    )

    assert (few, many, everyone) == (2, 20, 22)
    # My orders are one statement on PostgreSQL (the page's JSON built there), two elsewhere.
    assert len(few_statements) == len(many_statements) == (1 if is_postgres else 2)
    assert len(admin_statements) == 2


async def test_placing_an_order_costs_the_same_queries_whatever_its_size(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    category: Category,
    customer_headers: dict[str, str],
    is_postgres: bool,
) -> None:
    products = await _products(session, category, 30)
    counts = []
    await warm_identity(client, customer_headers)
    for size in (1, 5, 30):
        with count_queries(database.engine) as queries:
            await place_ok(client, customer_headers, *((p, 1) for p in products[:size]))
        counts.append(len(queries.data_statements))

    # Lock the products, take stock, insert the order, insert its lines, record order.placed;
    # on PostgreSQL the first two are one statement, and so are the next two.
    assert counts == ([3, 3, 3] if is_postgres else [5, 5, 5])


async def test_a_refused_order_stops_after_the_lock(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=1)
    await warm_identity(client, customer_headers)
    with count_queries(database.engine) as queries:
        response = await place(client, customer_headers, (product, 2))
    assert response.status_code == 409
    assert len(queries.data_statements) == 1


async def _both_renderings(
    service: OrderService, owner: OrderOwner, limit: int
) -> list[tuple[Any, Any]]:
    """Every page of `owner`'s orders as PostgreSQL renders it and as the portable path does,
    each walked by its own cursors."""
    pages = []
    driver_cursor: str | None = None
    portable_cursor: str | None = None
    while True:
        driver = orjson.loads(await service.page_json(owner, cursor=driver_cursor, limit=limit))
        portable = render_page(await service.list_page(owner, cursor=portable_cursor, limit=limit))
        pages.append((driver, orjson.loads(portable)))
        driver_cursor, portable_cursor = driver["next_cursor"], pages[-1][1]["next_cursor"]
        if driver_cursor is None or portable_cursor is None:
            return pages


@pytest.mark.postgres_only
async def test_postgresql_renders_the_same_pages_as_the_portable_path(
    session: AsyncSession, category: Category, customer: UserWithPassword, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip(
            "the page's JSON is built by PostgreSQL only; elsewhere it is the portable path"
        )
    products = [
        await create_product(session, category=category, price_minor=price, stock=100)
        for price in (1999, 5, 100_000)
    ]
    organization = await create_organization(session, customer)
    mine, theirs = own(customer.id), OrderOwner(TenantScope(organization), user_id=customer.id)
    service = OrderService(session)
    placed = [
        (await service.place(owner, _body(products[: 1 + i % 3], i))).id
        for i, owner in enumerate([mine, theirs, mine, mine, theirs])
    ]
    await service.cancel(placed[2], placer_gate(customer.id))
    # Whole seconds are written without a fraction, as pydantic and orjson write them.
    await session.execute(
        cross_tenant(
            update(table_of(Order))
            .where(table_of(Order).c.id == placed[0])
            .values(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
            reason="a test sets a timestamp",
        )
    )

    for owner in (mine, theirs):
        for limit in (1, 2, 20):
            pages = await _both_renderings(service, owner, limit)
            assert [driver for driver, _ in pages] == [portable for _, portable in pages]
    first = orjson.loads(await service.page_json(mine, cursor=None, limit=20))
    assert [order["id"] for order in first["items"]] == [placed[3], placed[2], placed[0]]
    assert first["items"][1]["cancelled_at"] is not None
    assert first["items"][2]["created_at"] == "2026-01-02T03:04:05Z"


def _body(products: list[Product], seed: int) -> OrderCreate:
    return OrderCreate(
        items=[
            OrderItemCreate(product_id=p.id, quantity=1 + seed + i) for i, p in enumerate(products)
        ]
    )
