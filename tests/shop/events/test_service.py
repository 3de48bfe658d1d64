"""The shop's domain events, over HTTP on both databases: each change writes its event to the
outbox in its own transaction (a refused change writes none), with the documented data."""

from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.events.models import OutboxEvent
from tests.conftest import Org
from tests.factories import create_category, create_product
from tests.shop.orders.probes import place, place_ok


async def _events(session: AsyncSession, type_: str | None = None) -> list[dict[str, Any]]:
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    if type_ is not None:
        query = query.where(OutboxEvent.type == type_)
    rows = (await session.execute(query)).scalars().all()
    return [
        {
            "type": row.type,
            "aggregate": (row.aggregate_type, row.aggregate_id),
            "data": orjson.loads(row.payload),
            "sent": row.sent_at is not None,
        }
        for row in rows
    ]


async def _category(session: AsyncSession) -> Category:
    return await create_category(session, name="Events")


async def test_placing_an_order_records_order_placed(
    client: httpx.AsyncClient, session: AsyncSession, customer_headers: dict[str, str]
) -> None:
    product = await create_product(
        session, category=await _category(session), price_minor=1250, stock=100
    )
    order = await place_ok(client, customer_headers, (product, 2))
    assert await _events(session) == [
        {
            "type": "order.placed",
            "aggregate": ("order", str(order["id"])),
            "data": {
                "order_id": order["id"],
                "organization_id": None,
                "status": "placed",
                "total": "25.00",
                "items": [{"product_id": product.id, "quantity": 2, "unit_price": "12.50"}],
            },
            "sent": False,
        }
    ]


async def test_a_refused_order_records_nothing(
    client: httpx.AsyncClient, session: AsyncSession, customer_headers: dict[str, str]
) -> None:
    product = await create_product(session, category=await _category(session), stock=1)
    assert (await place(client, customer_headers, (product, 2))).status_code == 409
    assert await _events(session) == []


async def test_an_organizations_order_carries_its_organization(
    client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    product = await create_product(session, category=await _category(session), stock=100)
    response = await client.post(
        f"/api/organizations/{org.id}/orders",
        json={"items": [{"product_id": product.id, "quantity": 1}]},
        headers=org.headers["buyer"],
    )
    assert response.status_code == 201, response.text
    (event,) = await _events(session, "order.placed")
    assert event["data"]["organization_id"] == org.id


async def test_cancelling_records_order_cancelled(
    client: httpx.AsyncClient, session: AsyncSession, customer_headers: dict[str, str]
) -> None:
    product = await create_product(session, category=await _category(session), stock=100)
    order = await place_ok(client, customer_headers, (product, 1))
    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=customer_headers)
    assert cancelled.status_code == 200, cancelled.text
    again = await client.post(f"/api/orders/{order['id']}/cancel", headers=customer_headers)
    assert again.status_code == 409  # refused: no second event
    events = await _events(session)
    assert [e["type"] for e in events] == ["order.placed", "order.cancelled"]
    assert events[1]["data"]["status"] == "cancelled"
    assert events[1]["aggregate"] == ("order", str(order["id"]))


async def test_an_order_crossing_the_threshold_records_stock_low_once(
    client: httpx.AsyncClient, session: AsyncSession, customer_headers: dict[str, str]
) -> None:
    # The test settings keep the default threshold, 5.
    product = await create_product(session, category=await _category(session), name="Lamp", stock=7)
    await place_ok(client, customer_headers, (product, 1))  # 6: above
    await place_ok(client, customer_headers, (product, 2))  # 4: crosses
    await place_ok(client, customer_headers, (product, 1))  # 3: already low
    low = await _events(session, "stock.low")
    assert low == [
        {
            "type": "stock.low",
            "aggregate": ("product", str(product.id)),
            "data": {"product_id": product.id, "name": "Lamp", "stock": 4, "threshold": 5},
            "sent": False,
        }
    ]


async def test_an_admin_price_change_records_product_price_changed(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    product = await create_product(session, category=await _category(session), price_minor=1000)
    url = f"/api/products/{product.id}"
    renamed = await client.patch(url, json={"name": "Renamed"}, headers=admin_headers)
    assert renamed.status_code == 200, renamed.text
    assert await _events(session) == []  # no price change, no event
    repriced = await client.patch(url, json={"price": "12.34"}, headers=admin_headers)
    assert repriced.status_code == 200, repriced.text
    same = await client.patch(url, json={"price": "12.34"}, headers=admin_headers)
    assert same.status_code == 200
    (event,) = await _events(session)
    assert event["type"] == "product.price_changed"
    assert event["data"] == {"product_id": product.id, "old_price": "10.00", "new_price": "12.34"}


async def test_a_refused_price_change_records_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    product = await create_product(session, category=await _category(session), price_minor=1000)
    response = await client.patch(
        f"/api/products/{product.id}",
        json={"price": "12.34", "category_id": 999_999},
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert await _events(session) == []
    assert isinstance(product, Product)
