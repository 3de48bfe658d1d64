"""The order confirmation mails, end to end on committed data: the order's commit enqueues the
job (in-process broker), the job renders and sends it over SMTP to the sink the test runs, with
a plain-text and an HTML part. A refused order mails nothing; a rerun of the job mails nothing
again (its row in `order_mails`)."""

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import JobsSettings, MailSettings, MailSink, app_state
from apiforge.shop.orders.jobs import send_confirmation
from apiforge.shop.orders.models import OrderMail
from tests.factories import auth_headers, create_category, create_product, create_user
from tests.shop.apps import shop_variant

pytestmark = pytest.mark.committed


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    running = MailSink()
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def shop(database_url: str, sink: MailSink) -> AsyncIterator[tuple[FastAPI, Any]]:
    async with shop_variant(
        database_url,
        None,
        jobs=JobsSettings(enabled=True, broker="memory"),
        mail=MailSettings(port=sink.port, security="none", sender="orders@shop.example"),
    ) as running:
        yield running


async def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


async def test_placing_and_cancelling_mail_the_customer_once_each(
    shop: tuple[FastAPI, Any], sink: MailSink, session: AsyncSession
) -> None:
    app, client = shop
    category = await create_category(session)
    product = await create_product(session, category=category, name="Tea <Pot>", price_minor=1250)
    user = await create_user(app, session, email="ann@example.com", full_name="Ann")
    await session.commit()
    headers = auth_headers(app, user)

    refused = await client.post(
        "/api/orders", json={"items": [{"product_id": product.id, "quantity": 99}]}, headers=headers
    )
    assert refused.status_code == 409
    placed = await client.post(
        "/api/orders", json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=headers
    )
    assert placed.status_code == 201
    order_id = placed.json()["id"]
    [mail] = await sink.wait_for(1)
    assert (mail["To"], mail["From"]) == ("ann@example.com", "orders@shop.example")
    assert mail["Subject"] == f"Your order #{order_id} is confirmed"
    assert mail["Message-ID"] == f"<order-{order_id}-placed@shop.example>"
    text, html = await _parts(mail)
    assert "2 x Tea <Pot>: 25.00" in text
    assert "Total: 25.00" in text
    assert "Tea &lt;Pot&gt;" in html

    cancelled = await client.post(f"/api/orders/{order_id}/cancel", headers=headers)
    assert cancelled.status_code == 200
    [_, cancel_mail] = await sink.wait_for(2)
    assert cancel_mail["Subject"] == f"Your order #{order_id} was cancelled"

    # The job run again (a redelivery) finds the mail sent and sends nothing. The sink has the
    # messages before each job has recorded its row (send, then record): wait for the jobs.
    queue = app_state(app).jobs
    assert queue is not None
    await queue.wait_idle()
    await queue.send(send_confirmation, order_id=order_id, event="placed")
    await queue.wait_idle()
    await asyncio.sleep(0.2)
    assert len(sink.messages) == 2
    count = select(func.count()).select_from(OrderMail).where(OrderMail.order_id == order_id)
    assert await session.scalar(count) == 2
