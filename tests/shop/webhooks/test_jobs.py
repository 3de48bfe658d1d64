"""Webhooks wired end to end on committed data, on SQLite and PostgreSQL: an organization's owner
registers an endpoint (a loopback receiver the test runs; loopback allowed by setting), an
order placed for the organization reaches the outbox, the relay (embedded here) writes the
delivery in its transaction and enqueues `webhooks.deliver` (in-process broker), and the
receiver checks the signature with its own implementation of the spec. A failing receiver
leaves the delivery pending with its next retry, as the deliveries listing shows, and the
`webhooks.send_due` sweeper sends it again once due."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    EventsSettings,
    JobsSettings,
    MailSettings,
    MailSink,
    OutboxMessage,
    WebhookSettings,
    app_state,
)
from apiforge.shop.webhooks.jobs import send_due, webhook_event
from apiforge.shop.webhooks.models import WebhookDelivery
from tests.factories import auth_headers, create_category, create_organization, create_product
from tests.factories import create_user as create_shop_user
from tests.kit.webhooks.receiver import Receiver, running_receiver, spec_verify
from tests.shop.apps import shop_variant

pytestmark = pytest.mark.committed
Shop = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    # The order's confirmation mail goes somewhere that accepts it, so its job ends at once.
    running = MailSink()
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def shop(database_url: str, sink: MailSink) -> AsyncIterator[Shop]:
    async with shop_variant(
        database_url,
        None,
        jobs=JobsSettings(enabled=True, broker="memory"),
        events=EventsSettings(embedded_relay=True, poll_interval_seconds=0.05),
        webhooks=WebhookSettings(allow_private_targets=True, timeout_seconds=5),
        mail=MailSettings(port=sink.port, security="none"),
    ) as running:
        yield running


async def _organization(app: FastAPI, session: AsyncSession) -> tuple[int, dict[str, str]]:
    owner = await create_shop_user(app, session, email="owner@hooks.example")
    org_id = await create_organization(session, owner, name="Hooks")
    return org_id, auth_headers(app, owner)


async def _place(shop: Shop, session: AsyncSession, receiver: Receiver) -> dict[str, Any]:
    """Register the receiver for `order.placed`, place an order, and wait until its delivery
    was attempted; the endpoint, the order and the listed delivery."""
    app, client = shop
    org_id, owner = await _organization(app, session)
    product = await create_product(session, category=await create_category(session), stock=5)
    await session.commit()
    hooks = f"/api/organizations/{org_id}/webhooks"
    created = await client.post(
        hooks, json={"url": receiver.url + "/in", "event_types": ["order.placed"]}, headers=owner
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    order = await client.post(
        f"/api/organizations/{org_id}/orders",
        json={"items": [{"product_id": product.id, "quantity": 2}]},
        headers=owner,
    )
    assert order.status_code == 201, order.text
    listing = f"{hooks}/{endpoint['id']}/deliveries"
    delivery = await _wait_for(client, listing, owner, lambda d: d["attempts"] >= 1)
    return {
        "endpoint": endpoint,
        "order": order.json(),
        "delivery": delivery,
        "listing": listing,
        "owner": owner,
        "org_id": org_id,
    }


async def _wait_for(
    client: httpx.AsyncClient, listing: str, headers: dict[str, str], done: Any
) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            answer = await client.get(listing, headers=headers)
            assert answer.status_code == 200, answer.text
            rows: list[dict[str, Any]] = answer.json()
            if rows and done(rows[0]):
                assert len(rows) == 1
                return rows[0]
            await asyncio.sleep(0.05)


async def test_a_placed_order_reaches_the_receiver_signed(
    shop: Shop, session: AsyncSession, receiver: Receiver
) -> None:
    placed = await _place(shop, session, receiver)
    [received] = receiver.received
    assert received.path == "/in"
    assert spec_verify(placed["endpoint"]["secret"], received.headers, received.body)
    body = json.loads(received.body)
    assert body["type"] == "order.placed"
    assert body["data"]["order_id"] == placed["order"]["id"]
    assert body["data"]["organization_id"] == placed["org_id"]
    assert body["data"]["total"] == placed["order"]["total"]
    delivery = placed["delivery"]
    assert received.headers["webhook-id"] == delivery["message_id"]
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 1)
    assert (delivery["last_status_code"], delivery["next_attempt_at"]) == (200, None)
    _, client = shop
    hooks = f"/api/organizations/{placed['org_id']}/webhooks/deliveries"
    [listed] = (await client.get(hooks, headers=placed["owner"])).json()
    assert listed == delivery


async def test_a_failing_receiver_leaves_the_delivery_pending_then_the_sweep_retries_it(
    shop: Shop, session: AsyncSession, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    placed = await _place(shop, session, receiver)
    delivery = placed["delivery"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_status_code"] == 500
    assert delivery["last_error"].startswith("HTTP 500")
    app, client = shop
    hooks = f"/api/organizations/{placed['org_id']}/webhooks/deliveries?status=pending"
    assert (await client.get(hooks, headers=placed["owner"])).json() == [delivery]
    retry_at = datetime.fromisoformat(delivery["next_attempt_at"])
    attempted = datetime.fromisoformat(delivery["created_at"])
    # The schedule's first delay (5 s) after the attempt, which followed the creation.
    assert retry_at >= attempted + timedelta(seconds=5)

    # Once due (moved into the past rather than waited for), the sweeper sends it again.
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery["id"])
        .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await session.commit()
    queue = app_state(app).jobs
    assert queue is not None
    await queue.send(send_due)
    retried = await _wait_for(
        client, placed["listing"], placed["owner"], lambda d: d["attempts"] == 2
    )
    assert (retried["status"], retried["last_status_code"]) == ("succeeded", 200)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["message_id"]
    assert spec_verify(placed["endpoint"]["secret"], second.headers, second.body)


def _message(type_: str, data: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(1, "evt-1", type_, "order", "1", datetime(2026, 1, 1, tzinfo=UTC), data)


@pytest.mark.parametrize(
    ("type_", "data", "tenant"),
    [
        ("order.placed", {"order_id": 1, "organization_id": 7}, 7),
        ("order.paid", {"order_id": 1, "organization_id": 7}, 7),
        ("order.placed", {"order_id": 1, "organization_id": None}, "none"),
        ("stock.low", {"product_id": 3}, None),
        ("product.price_changed", {"product_id": 3}, None),
        ("thing.unknown", {"product_id": 3}, "none"),
    ],
)
def test_which_endpoints_an_event_is_offered_to(
    type_: str, data: dict[str, Any], tenant: int | str | None
) -> None:
    """An organization's order to its endpoints, a personal order to none (it concerns no
    organization), a catalog event to every organization's, an unknown type to none."""
    event = webhook_event(_message(type_, data))
    if tenant == "none":
        assert event is None
    else:
        assert event is not None
        assert (event.id, event.type, event.tenant_id) == ("evt-1", type_, tenant)
