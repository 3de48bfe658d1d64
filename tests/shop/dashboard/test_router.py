"""GET /api/dashboard on committed data (its reads run on connections of their own, which a
test's rolled-back transaction cannot share), on both databases."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from apiforge.kit import Database
from apiforge.kit.testing import count_queries
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.catalog.service import CatalogService
from apiforge.shop.dashboard.schemas import Dashboard
from apiforge.shop.dashboard.service import DashboardService
from apiforge.shop.orders.models import Order, OrderLine
from apiforge.shop.orders.service import OrderService
from apiforge.shop.settings import ShopSettings
from tests.factories import UserWithPassword, create_category, create_product, warm_identity

pytestmark = pytest.mark.committed
URL = "/api/dashboard"


async def place(
    session: AsyncSession,
    user: UserWithPassword,
    lines: list[tuple[Product, int]],
    status: str = "placed",
) -> Order:
    """An order written directly with the models (the dashboard only reads them)."""
    total = sum(product.price_minor * quantity for product, quantity in lines)
    order = Order(user_id=user.id, total_minor=total, status=status)
    session.add(order)
    await session.flush()
    session.add_all(
        OrderLine(
            order_id=order.id,
            product_id=product.id,
            product_name=product.name,
            quantity=quantity,
            unit_price_minor=product.price_minor,
        )
        for product, quantity in lines
    )
    await session.flush()
    return order


class Shop:
    def __init__(self, categories: list[Category], products: list[Product]) -> None:
        self.categories = categories
        self.products = products


@pytest.fixture
async def shop(
    session: AsyncSession,
    customer: UserWithPassword,
    other_customer: UserWithPassword,
    admin: UserWithPassword,
) -> Shop:
    """Seven categories with one product each (stock 0, 2, ..., 12); the customer has a placed
    order, a paid one and a cancelled one, another customer one order."""
    categories = [await create_category(session, name=f"Category {i}") for i in range(7)]
    products = [
        await create_product(
            session, category=c, name=f"Product {i}", price_minor=1000 + i, stock=2 * i
        )
        for i, c in enumerate(categories)
    ]
    await create_product(
        session, category=categories[0], name="Archived", stock=0, is_archived=True
    )
    p = products
    await place(session, customer, [(p[0], 1), (p[1], 4)])
    await place(session, customer, [(p[2], 3)], status="paid")
    await place(session, customer, [(p[6], 50)], status="cancelled")
    await place(session, other_customer, [(p[2], 2), (p[3], 1), (p[4], 1), (p[5], 1)])
    await session.commit()
    return Shop(categories, products)


async def test_a_customer_sees_their_orders_and_the_best_sellers_and_nothing_else(
    client: httpx.AsyncClient, customer_headers: dict[str, str], shop: Shop
) -> None:
    response = await client.get(URL, headers=customer_headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"orders", "recent_orders", "top_categories"}
    assert "low_stock" not in response.text
    assert "Archived" not in response.text
    c = shop.categories
    assert body["orders"] == {
        "count": 3,
        # 1 x 10.00 + 4 x 10.01 + 3 x 10.02 (paid); the cancelled one is free
        "total_spent": "80.10",
    }
    assert [o["status"] for o in body["recent_orders"]] == ["cancelled", "paid", "placed"]
    assert set(body["recent_orders"][0]) == {"id", "status", "total", "created_at"}
    # Units in placed and paid orders, everyone's: category 2 has 3 (paid) + 2, category 1 has
    # 4; the cancelled 50 units of category 6 do not count. Ties go to the lower id.
    assert body["top_categories"] == [
        {"id": c[2].id, "name": "Category 2", "units_sold": 5},
        {"id": c[1].id, "name": "Category 1", "units_sold": 4},
        {"id": c[0].id, "name": "Category 0", "units_sold": 1},
        {"id": c[3].id, "name": "Category 3", "units_sold": 1},
        {"id": c[4].id, "name": "Category 4", "units_sold": 1},
    ]


async def test_an_admin_also_sees_live_products_running_low(
    client: httpx.AsyncClient, admin_headers: dict[str, str], shop: Shop
) -> None:
    response = await client.get(URL, headers=admin_headers)

    assert response.status_code == 200, response.text
    body = response.json()
    p = shop.products
    assert body["low_stock"] == [
        {"id": p[0].id, "name": "Product 0", "stock": 0},
        {"id": p[1].id, "name": "Product 1", "stock": 2},
        {"id": p[2].id, "name": "Product 2", "stock": 4},
    ]
    assert body["orders"] == {"count": 0, "total_spent": "0.00"}
    assert body["recent_orders"] == []


async def test_recent_orders_are_the_five_newest(
    client: httpx.AsyncClient,
    session: AsyncSession,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
    shop: Shop,
) -> None:
    more = [await place(session, customer, [(shop.products[3], 1)]) for _ in range(4)]
    await session.commit()

    response = await client.get(URL, headers=customer_headers)

    ids = [order["id"] for order in response.json()["recent_orders"]]
    assert len(ids) == 5
    assert ids[:4] == [order.id for order in reversed(more)]
    assert ids == sorted(ids, reverse=True)


async def test_anonymous_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthenticated"


@contextmanager
def connections_used(engine: AsyncEngine) -> Iterator[set[int]]:
    """The DBAPI connections statements ran on while the block runs."""
    seen: set[int] = set()

    def record(conn: Any, *_args: Any) -> None:
        seen.add(id(conn.connection.dbapi_connection))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.mark.parametrize(("role", "reads"), [("customer", 3), ("admin", 4)])
async def test_a_fixed_number_of_queries_on_concurrent_connections(
    client: httpx.AsyncClient,
    database: Database,
    customer_headers: dict[str, str],
    admin_headers: dict[str, str],
    session: AsyncSession,
    customer: UserWithPassword,
    shop: Shop,
    role: str,
    reads: int,
    is_postgres: bool,
) -> None:
    headers = customer_headers if role == "customer" else admin_headers
    await warm_identity(client, headers)
    with count_queries(database.engine) as few, connections_used(database.engine) as before:
        await client.get(URL, headers=headers)
    for _ in range(10):  # more orders must not mean more queries
        await place(session, customer, [(shop.products[1], 1)])
    await session.commit()
    with count_queries(database.engine) as many, connections_used(database.engine) as after:
        await client.get(URL, headers=headers)

    # The first read computes everything; the second serves the top categories (the same for
    # everybody) from the cache. More orders never mean more queries. The orders' count,
    # spend and newest orders are read on one connection: in one statement on PostgreSQL,
    # two elsewhere.
    statements = reads - 1 if is_postgres else reads
    assert (len(few.data_statements), len(before)) == (statements, reads - 1)
    assert (len(many.data_statements), len(after)) == (statements - 1, reads - 2)


@pytest.mark.parametrize("alerts", [False, True], ids=["customer", "admin"])
async def test_without_a_cache_the_dashboard_is_the_models_dashboard(
    database: Database,
    settings: ShopSettings,
    customer: UserWithPassword,
    shop: Shop,
    alerts: bool,
) -> None:
    """Built without a cache (on PostgreSQL: the orders' part and the top categories in one
    statement), the body is the `Dashboard` model's, read query by query."""
    shown = settings.dashboard
    service = DashboardService(database, shown, cache=None)

    body = await service.build_json(customer.id, with_stock_alerts=alerts)

    async with database.read_session() as session:
        orders = OrderService(session)
        catalog = CatalogService(session)
        expected = Dashboard(
            orders=await orders.summary(customer.id),
            recent_orders=await orders.recent(customer.id, shown.recent_orders),
            top_categories=await orders.top_categories(shown.top_categories),
            low_stock=await catalog.low_stock(shown.low_stock_threshold, shown.low_stock_items)
            if alerts
            else None,
        )
    assert orjson.loads(body) == orjson.loads(expected.model_dump_json(exclude_none=True))
    assert len(orjson.loads(body)["recent_orders"]) == 3
