"""The daily low-stock digest (`orders.low_stock_digest` in orders/jobs.py) on a controlled
clock: the day before `now` is gathered from the outbox's `stock.low` events, each
organization gets the products it has ordered, only its endpoints subscribed to
`stock.low.digest` get a delivery, and a second run of the same day adds nothing."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.events.models import OutboxEvent
from apiforge.shop.orders.jobs import send_low_stock_digest
from apiforge.shop.webhooks.models import WebhookDelivery
from tests.conftest import Org
from tests.factories import create_product

NOW = datetime(2026, 3, 2, 0, 15, tzinfo=UTC)  # the digest of 2026-03-01


async def _order(client: httpx.AsyncClient, org: Org, *products: Product) -> None:
    items = [{"product_id": product.id, "quantity": 1} for product in products]
    answer = await client.post(
        f"/api/organizations/{org.id}/orders", json={"items": items}, headers=org.headers["owner"]
    )
    assert answer.status_code == 201, answer.text


async def _endpoint(client: httpx.AsyncClient, org: Org, *types: str) -> int:
    answer = await client.post(
        f"/api/organizations/{org.id}/webhooks",
        json={"url": "https://93.184.216.34/in", "event_types": list(types)},
        headers=org.headers["owner"],
    )
    assert answer.status_code == 201, answer.text
    endpoint_id: int = answer.json()["id"]
    return endpoint_id


def _low(product: Product, stock: int, at: datetime) -> OutboxEvent:
    data = {"product_id": product.id, "name": product.name, "stock": stock, "threshold": 5}
    return OutboxEvent(
        event_id=str(uuid.uuid4()),
        type="stock.low",
        aggregate_type="product",
        aggregate_id=str(product.id),
        payload=json.dumps(data),
        created_at=at,
        attempts=0,
    )


async def test_each_organization_gets_its_ordered_products_once_a_day(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    org: Org,
    other_org: Org,
    category: Category,
) -> None:
    teapot, kettle, cups, spoons = [
        await create_product(session, category=category, name=name, stock=50)
        for name in ("Teapot", "Kettle", "Cups", "Spoons")
    ]
    await _order(client, org, teapot, kettle)
    await _order(client, other_org, cups)
    digest = await _endpoint(client, org, "stock.low.digest")
    await _endpoint(client, org, "stock.low")  # each crossing as it happens: no digest
    session.add_all(
        [
            _low(teapot, 3, datetime(2026, 3, 1, 10, tzinfo=UTC)),
            _low(teapot, 1, datetime(2026, 3, 1, 20, tzinfo=UTC)),  # the day's last counts
            _low(kettle, 2, datetime(2026, 2, 28, 23, 59, tzinfo=UTC)),  # the day before
            _low(spoons, 4, datetime(2026, 3, 1, 9, tzinfo=UTC)),  # nobody ordered spoons
            _low(cups, 0, datetime(2026, 3, 1, 9, tzinfo=UTC)),  # B has no endpoint
            _low(kettle, 4, datetime(2026, 3, 2, 0, 1, tzinfo=UTC)),  # today's: tomorrow
        ]
    )
    await session.flush()

    created = await send_low_stock_digest(database, None, now=NOW)
    assert set(created) == {org.id, other_org.id}
    assert created[other_org.id] == []
    [delivery_id] = created[org.id]
    delivery = await session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    assert (delivery.endpoint_id, delivery.event_type) == (digest, "stock.low.digest")
    assert delivery.event_id == f"stock.low.digest:{org.id}:2026-03-01"
    body: dict[str, Any] = json.loads(delivery.payload)
    assert body["type"] == "stock.low.digest"
    assert body["data"] == {
        "organization_id": org.id,
        "day": "2026-03-01",
        "products": [{"product_id": teapot.id, "name": "Teapot", "stock": 1, "threshold": 5}],
    }

    assert await send_low_stock_digest(database, None, now=NOW.replace(hour=9)) == {
        org.id: [],
        other_org.id: [],
    }
    next_day = await send_low_stock_digest(database, None, now=NOW.replace(day=3))
    assert [len(ids) for ids in next_day.values()] == [1]  # the kettle, recorded on the 2nd
    count = await session.scalars(select(WebhookDelivery.event_id))
    assert sorted(count) == [
        f"stock.low.digest:{org.id}:2026-03-01",
        f"stock.low.digest:{org.id}:2026-03-02",
    ]
