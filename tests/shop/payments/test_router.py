"""The payment provider's webhook, on SQLite and PostgreSQL: the raw body's signature and
timestamp checked before parsing, each event applied once by its id, the order made `paid`
(and then no longer cancellable); replays, bad signatures, stale or future timestamps, unknown
orders, wrong amounts and malformed bodies are 4xx problems that change nothing."""

import time
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category
from apiforge.shop.events.models import InboxMessage, OutboxEvent
from apiforge.shop.orders.models import Order
from tests.answers import assert_problem
from tests.factories import create_product
from tests.shop.orders.probes import place_ok
from tests.shop.payments.signing import PATH, event_body, signed


@pytest.fixture
async def order(
    client: httpx.AsyncClient,
    session: AsyncSession,
    customer_headers: dict[str, str],
    category: Category,
) -> dict[str, Any]:
    product = await create_product(session, category=category, price_minor=1250)
    return await place_ok(client, customer_headers, (product, 2))


async def send(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(PATH, content=body, headers=headers)


async def status_of(session: AsyncSession, order_id: int) -> str:
    query = select(Order.status).where(Order.id == order_id)
    return str(
        (await session.execute(query.execution_options(apiforge_cross_tenant="test"))).scalar_one()
    )


async def claims(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(InboxMessage)
                .where(InboxMessage.source == "payments")
            )
        ).scalar_one()
    )


async def test_a_signed_payment_makes_the_order_paid(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    response = await send(client, body, signed(body, "msg_paid_1"))
    assert response.status_code == 202, response.text
    assert response.json() == {
        "event_id": "msg_paid_1",
        "order_id": order["id"],
        "order_status": "paid",
    }
    assert await status_of(session, order["id"]) == "paid"
    assert await claims(session) == 1


async def test_a_payment_records_order_paid_once(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, body, signed(body, "msg_event_1"))).status_code == 202
    second = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, second, signed(second, "msg_event_2"))).status_code == 202
    query = select(OutboxEvent.type, OutboxEvent.payload).where(
        OutboxEvent.aggregate_id == str(order["id"])
    )
    rows = (await session.execute(query.order_by(OutboxEvent.id))).all()
    assert [row.type for row in rows] == ["order.placed", "order.paid"]  # the no-op adds none
    assert orjson.loads(rows[1].payload)["status"] == "paid"


async def test_a_paid_order_cannot_be_cancelled(
    client: httpx.AsyncClient, order: dict[str, Any], customer_headers: dict[str, str]
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, body, signed(body, "msg_paid_2"))).status_code == 202
    cancelled = await client.post(f"/api/orders/{order['id']}/cancel", headers=customer_headers)
    assert_problem(cancelled, 409, "orders.already_paid")
    shown = await client.get(f"/api/orders/{order['id']}", headers=customer_headers)
    assert shown.json()["status"] == "paid"


async def test_a_replay_of_the_same_event_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, body, signed(body, "msg_once"))).status_code == 202
    # The same event again, freshly signed (as a provider's retry or a replayer would).
    again = await send(client, body, signed(body, "msg_once"))
    assert_problem(again, 409, "payments.event_already_processed")
    assert await claims(session) == 1


async def test_a_second_confirmation_under_another_id_is_a_no_op(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, body, signed(body, "msg_a"))).status_code == 202
    second = await send(client, body, signed(body, "msg_b"))
    assert second.status_code == 202
    assert second.json()["order_status"] == "paid"


async def test_a_failed_payment_leaves_the_order_placed(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("failed", order["id"], reason="card_declined")
    response = await send(client, body, signed(body, "msg_failed"))
    assert response.status_code == 202
    assert response.json()["order_status"] == "placed"
    assert await status_of(session, order["id"]) == "placed"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        (lambda b: signed(b, "msg_x", secret="whsec_" + "QUFB" * 11), "webhooks.signature_invalid"),
        (lambda b: signed(b + b" ", "msg_x"), "webhooks.signature_invalid"),
        (lambda b: signed(b, "msg_x") | {"webhook-id": "msg_y"}, "webhooks.signature_invalid"),
        (lambda b: signed(b, "msg_x") | {"webhook-signature": "v1,"}, "webhooks.signature_invalid"),
        (
            lambda b: signed(b, "msg_x", timestamp=int(time.time()) - 301),
            "webhooks.timestamp_out_of_tolerance",
        ),
        (
            lambda b: signed(b, "msg_x", timestamp=int(time.time()) + 400),
            "webhooks.timestamp_out_of_tolerance",
        ),
        (
            lambda b: signed(b, "msg_x") | {"webhook-timestamp": "soon"},
            "webhooks.timestamp_out_of_tolerance",
        ),
        (lambda b: {"Content-Type": "application/json"}, "webhooks.headers_missing"),
    ],
    ids=[
        "wrong secret",
        "body changed",
        "id changed",
        "empty signature",
        "stale",
        "future",
        "not a time",
        "unsigned",
    ],
)
async def test_unverifiable_messages_are_400_and_change_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    order: dict[str, Any],
    headers: Any,
    code: str,
) -> None:
    body = event_body("succeeded", order["id"], "25.00")
    response = await send(client, body, headers(body))
    assert_problem(response, 400, code)
    assert await status_of(session, order["id"]) == "placed"
    assert await claims(session) == 0


async def test_an_unknown_order_is_404_and_leaves_no_claim(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", 987_654_321, "25.00")
    assert_problem(
        await send(client, body, signed(body, "msg_unknown")), 404, "orders.order_not_found"
    )
    assert await claims(session) == 0
    # Not used up: the same id is still accepted once the event is right.
    good = event_body("succeeded", order["id"], "25.00")
    assert (await send(client, good, signed(good, "msg_unknown"))).status_code == 202


async def test_a_wrong_amount_is_409_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, order: dict[str, Any]
) -> None:
    body = event_body("succeeded", order["id"], "24.99")
    assert_problem(
        await send(client, body, signed(body, "msg_amount")), 409, "orders.payment_amount_mismatch"
    )
    assert await status_of(session, order["id"]) == "placed"
    assert await claims(session) == 0


async def test_a_cancelled_order_is_not_paid(
    client: httpx.AsyncClient,
    session: AsyncSession,
    order: dict[str, Any],
    customer_headers: dict[str, str],
) -> None:
    assert (
        await client.post(f"/api/orders/{order['id']}/cancel", headers=customer_headers)
    ).status_code == 200
    body = event_body("succeeded", order["id"], "25.00")
    assert_problem(await send(client, body, signed(body, "msg_late")), 409, "orders.not_payable")
    assert await status_of(session, order["id"]) == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"type": "payment.refunded", "data": {"order_id": 1}}',
        b'{"type": "payment.succeeded"}',
        b'{"type": "payment.succeeded", "data": {"order_id": "one", "amount": "1.00"}}',
        b'{"type": "payment.succeeded", "data": {"order_id": 0, "amount": "1.00"}}',
        b'{"type": "payment.succeeded", "data": '
        b'{"order_id": 99999999999999999999999, "amount": "1.00"}}',
        b'{"type": "payment.succeeded", "data": {"order_id": 1, "amount": -5}}',
        b'{"type": "payment.succeeded", "data": {"order_id": 1}}',
        b'\xff\xfe{"type"',
    ],
    ids=range(11),
)
async def test_malformed_bodies_signed_correctly_are_422(
    client: httpx.AsyncClient, session: AsyncSession, body: bytes
) -> None:
    response = await send(client, body, signed(body, "msg_bad"))
    assert_problem(response, 422, "request.validation_failed")
    assert await claims(session) == 0


async def test_an_overlong_event_id_is_422(
    client: httpx.AsyncClient, order: dict[str, Any]
) -> None:
    body = event_body("failed", order["id"])
    assert_problem(
        await send(client, body, signed(body, "m" * 300)), 422, "request.validation_failed"
    )
