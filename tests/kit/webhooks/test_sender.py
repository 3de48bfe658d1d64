"""Dispatching and delivering webhooks on both databases against a receiver the test runs:
signatures checked by an independent verifier, the documented retry schedule walked on a
controlled clock, the endpoint paused when it keeps failing, SSRF checked again at delivery
time, redirects not followed, and a delivered delivery never sent twice."""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ForeignKey, Integer, MetaData, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apiforge.kit import DatabaseSettings, tenant_owned
from apiforge.kit.db.database import Database
from apiforge.kit.settings import WebhookSettings
from apiforge.kit.webhooks import (
    RETRY_DELAYS,
    Outcome,
    SecretSealer,
    WebhookDeliveryMixin,
    WebhookDispatcher,
    WebhookEndpointMixin,
    WebhookEvent,
    WebhookSender,
    generate_secret,
    resolve_target,
)
from tests.kit.webhooks.receiver import Receiver, running_receiver, spec_verify

SUFFIX = os.getpid()


class _Base(DeclarativeBase):
    metadata = MetaData()


class Owner(_Base):
    __tablename__ = f"kit_webhook_owners_{SUFFIX}"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Endpoint(WebhookEndpointMixin, _Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (tenant_owned("owner_id"),)
    owner_id: Mapped[int] = mapped_column(ForeignKey(f"{Owner.__tablename__}.id"))


class Delivery(WebhookDeliveryMixin, _Base):
    __tablename__ = "webhook_deliveries"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def database(kit_database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(kit_database_url, DatabaseSettings())
    async with db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)
        await conn.run_sync(_Base.metadata.create_all)
    async with db.transaction() as session:
        session.add_all([Owner(id=1), Owner(id=2)])
    yield db
    async with db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)
    await db.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sender(database: Database, clock: Clock) -> AsyncIterator[WebhookSender]:
    settings = WebhookSettings(allow_private_targets=True, timeout_seconds=5, pause_after_days=1)
    built = WebhookSender(database, Endpoint, Delivery, settings, clock=clock)
    yield built
    await built.upstream.aclose()


async def add_endpoint(
    database: Database, url: str, *, owner: int = 1, types: str = "order.paid order.placed"
) -> tuple[int, str]:
    secret = generate_secret()
    async with database.transaction() as session:
        endpoint = Endpoint(url=url, event_types=types, secret=secret, owner_id=owner)
        session.add(endpoint)
        await session.flush()
        return endpoint.id, secret


def event(
    event_id: str = "evt_1", type_: str = "order.paid", tenant: int | None = 1
) -> WebhookEvent:
    occurred = datetime(2026, 1, 1, tzinfo=UTC)
    return WebhookEvent(event_id, type_, tenant, {"order_id": 7, "total": "12.50"}, occurred)


async def accept(database: Database, clock: Clock, evt: WebhookEvent) -> list[int]:
    dispatcher = WebhookDispatcher(Endpoint, Delivery, clock=clock)
    async with database.transaction() as session:
        return await dispatcher.accept(session, evt)


async def delivery(database: Database, delivery_id: int) -> Delivery:
    async with database.transaction(write=False) as session:
        return (await session.scalars(select(Delivery).where(Delivery.id == delivery_id))).one()


async def endpoint_row(database: Database, endpoint_id: int) -> Endpoint:
    async with database.transaction(write=False) as session:
        query = select(Endpoint).where(Endpoint.id == endpoint_id)
        return (await session.scalars(query.execution_options(apiforge_cross_tenant="test"))).one()


async def test_accept_adds_one_delivery_per_subscribed_active_endpoint_of_the_tenant(
    database: Database, clock: Clock, receiver: Receiver
) -> None:
    mine, _ = await add_endpoint(database, receiver.url)
    await add_endpoint(database, receiver.url, types="stock.low")
    await add_endpoint(database, receiver.url, owner=2)
    ids = await accept(database, clock, event())
    assert len(ids) == 1
    assert (await delivery(database, ids[0])).endpoint_id == mine
    # The relay publishes at least once: the same event again adds nothing.
    assert await accept(database, clock, event()) == []


async def test_a_delivery_is_signed_for_an_independent_verifier(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    _, secret = await add_endpoint(database, receiver.url + "/hooks?src=shop")
    [delivery_id] = await accept(database, clock, event())
    assert await sender.deliver(delivery_id) is Outcome.SENT
    [got] = receiver.received
    assert got.path == "/hooks?src=shop"
    assert spec_verify(secret, got.headers, got.body)
    assert got.headers["content-type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    payload = json.loads(got.body)
    assert payload == {
        "type": "order.paid",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "data": {"order_id": 7, "total": "12.50"},
    }
    assert secret not in got.body.decode()
    stored = await delivery(database, delivery_id)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("succeeded", 1, 200)
    assert got.headers["webhook-id"] == stored.message_id


async def test_a_delivered_delivery_is_not_sent_again(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    await add_endpoint(database, receiver.url)
    [delivery_id] = await accept(database, clock, event())
    assert await sender.deliver(delivery_id) is Outcome.SENT
    assert await sender.deliver(delivery_id) is Outcome.DONE
    assert len(receiver.received) == 1
    assert await sender.deliver(999_999) is Outcome.MISSING


async def test_two_workers_running_one_delivery_send_it_once(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    await add_endpoint(database, receiver.url)
    [delivery_id] = await accept(database, clock, event())
    outcomes = await asyncio.gather(sender.deliver(delivery_id), sender.deliver(delivery_id))
    assert sorted(outcomes) == sorted([Outcome.SENT, Outcome.LEASED]) or set(outcomes) == {
        Outcome.SENT,
        Outcome.DONE,
    }
    assert len(receiver.received) == 1


async def test_a_failing_receiver_sees_the_documented_schedule_then_the_delivery_fails(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    sender.settings = WebhookSettings(allow_private_targets=True, pause_after_days=30)
    _, secret = await add_endpoint(database, receiver.url)
    [delivery_id] = await accept(database, clock, event())
    receiver.statuses = [500] * 10
    start = clock.now
    sent_at: list[timedelta] = []
    for attempt, wait in enumerate([*RETRY_DELAYS, None], start=1):
        sent_at.append(clock.now - start)
        outcome = await sender.deliver(delivery_id)
        stored = await delivery(database, delivery_id)
        assert stored.attempts == attempt
        assert stored.last_status_code == 500
        assert stored.last_error is not None
        assert stored.last_error.startswith("HTTP 500: nope")
        if wait is None:
            assert outcome is Outcome.FAILED
            assert stored.status == "failed"
            assert stored.next_attempt_at is None
            break
        assert outcome is Outcome.RETRYING
        assert stored.next_attempt_at == clock.now + wait
        clock.now += wait - timedelta(seconds=1)
        assert await sender.deliver(delivery_id) is Outcome.NOT_DUE  # not a second early
        clock.now += timedelta(seconds=1)
    expected = [timedelta(0)]
    for wait in RETRY_DELAYS:
        expected.append(expected[-1] + wait)
    assert sent_at == expected  # 0, 5 s, 5 min 5 s, ... about 17 h 35 min
    assert len(receiver.received) == 7
    # Every retry carries the same webhook-id (receivers deduplicate by it), each verifiable.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(spec_verify(secret, r.headers, r.body) for r in receiver.received)


async def test_an_endpoint_failing_for_longer_than_the_window_is_paused(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    endpoint_id, _ = await add_endpoint(database, receiver.url)
    receiver.statuses = [503] * 20
    ids = [(await accept(database, clock, event(f"evt_{n}")))[0] for n in range(3)]
    assert await sender.deliver(ids[0]) is Outcome.RETRYING
    clock.now += timedelta(hours=23)
    assert await sender.deliver(ids[1]) is Outcome.RETRYING
    assert (await endpoint_row(database, endpoint_id)).status == "active"
    clock.now += timedelta(hours=2)  # past pause_after_days=1 since the first failure
    assert await sender.deliver(ids[2]) is Outcome.RETRYING
    paused = await endpoint_row(database, endpoint_id)
    assert paused.status == "paused"
    assert paused.paused_reason is not None
    assert "HTTP 503" in paused.paused_reason
    clock.now += timedelta(hours=1)
    assert await sender.deliver(ids[0]) is Outcome.ENDPOINT_INACTIVE
    assert len(receiver.received) == 3


async def test_a_success_resets_the_failing_window(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    endpoint_id, _ = await add_endpoint(database, receiver.url)
    receiver.statuses = [500, 200]
    first = (await accept(database, clock, event("evt_a")))[0]
    second = (await accept(database, clock, event("evt_b")))[0]
    assert await sender.deliver(first) is Outcome.RETRYING
    assert (await endpoint_row(database, endpoint_id)).failing_since == clock.now
    assert await sender.deliver(second) is Outcome.SENT
    assert (await endpoint_row(database, endpoint_id)).failing_since is None


async def test_redirects_are_not_followed(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    await add_endpoint(database, receiver.url)
    receiver.statuses = [302]
    [delivery_id] = await accept(database, clock, event())
    assert await sender.deliver(delivery_id) is Outcome.RETRYING
    assert [r.path for r in receiver.received] == ["/"]
    stored = await delivery(database, delivery_id)
    assert stored.last_status_code == 302


async def test_loopback_is_refused_at_delivery_unless_allowed(
    database: Database, clock: Clock, receiver: Receiver
) -> None:
    strict = WebhookSender(database, Endpoint, Delivery, WebhookSettings(), clock=clock)
    try:
        await add_endpoint(database, receiver.url)
        [delivery_id] = await accept(database, clock, event())
        assert await strict.deliver(delivery_id) is Outcome.RETRYING
        stored = await delivery(database, delivery_id)
        assert stored.last_error is not None
        assert stored.last_error.startswith("refused")
        assert stored.last_status_code is None
        assert receiver.received == []
    finally:
        await strict.upstream.aclose()


async def test_a_name_that_now_resolves_to_a_private_address_is_refused(
    database: Database, clock: Clock, receiver: Receiver
) -> None:
    """DNS rebinding: the name passed the check at registration; at delivery it resolves to
    10.0.0.7, and the sender refuses without connecting."""

    async def rebinding(url: str) -> object:
        return await resolve_target("http://10.0.0.7/hook", allow_private=False)

    sender = WebhookSender(
        database,
        Endpoint,
        Delivery,
        WebhookSettings(),
        clock=clock,
        resolve=rebinding,  # type: ignore[arg-type]  # returns a Target or raises
    )
    try:
        await add_endpoint(database, "https://hooks.example.com/in")
        [delivery_id] = await accept(database, clock, event())
        assert await sender.deliver(delivery_id) is Outcome.RETRYING
        stored = await delivery(database, delivery_id)
        assert stored.last_error == "refused: The URL's host resolves to not a public address."
    finally:
        await sender.upstream.aclose()


async def test_deliver_due_sends_what_is_due(
    database: Database, clock: Clock, receiver: Receiver, sender: WebhookSender
) -> None:
    await add_endpoint(database, receiver.url)
    ids = [(await accept(database, clock, event(f"evt_{n}")))[0] for n in range(3)]
    outcomes = await sender.deliver_due()
    assert outcomes == dict.fromkeys(ids, Outcome.SENT)
    assert await sender.deliver_due() == {}


async def test_an_event_of_no_tenant_goes_to_every_subscribed_endpoint(
    database: Database, clock: Clock, receiver: Receiver
) -> None:
    await add_endpoint(database, receiver.url, types="stock.low")
    await add_endpoint(database, receiver.url, owner=2, types="stock.low order.paid")
    await add_endpoint(database, receiver.url, owner=2, types="order.paid")
    ids = await accept(database, clock, event("evt_s", "stock.low", tenant=None))
    assert len(ids) == 2


def test_members_naming_a_secret_never_reach_a_payload() -> None:
    data = {
        "order_id": 7,
        "customer": {"email": "a@example.com", "password": "hunter2", "api_key": "afk_x"},
        "lines": [{"sku": "A", "access_token": "t0k"}],
        "client_secret": "s3cr3t",
    }
    body = json.loads(WebhookEvent("evt_s", "order.paid", 1, data).body())
    assert body["data"] == {
        "order_id": 7,
        "customer": {"email": "a@example.com"},
        "lines": [{"sku": "A"}],
    }


async def test_a_sealed_secret_is_opened_to_sign_and_a_lost_key_is_a_recorded_failure(
    database: Database, clock: Clock, receiver: Receiver
) -> None:
    settings = WebhookSettings(allow_private_targets=True, timeout_seconds=5)
    sealer = SecretSealer.from_material(["the-sealing-key-of-this-test-32-chars+"])
    secret = generate_secret()
    async with database.transaction() as session:
        session.add(
            Endpoint(
                url=receiver.url, event_types="order.paid", secret=sealer.seal(secret), owner_id=1
            )
        )
    [first] = await accept(database, clock, event("evt_sealed"))
    opening = WebhookSender(database, Endpoint, Delivery, settings, clock=clock, sealer=sealer)
    assert await opening.deliver(first) is Outcome.SENT
    assert spec_verify(secret, receiver.received[0].headers, receiver.received[0].body)
    await opening.upstream.aclose()

    other = SecretSealer.from_material(["another-key-that-never-sealed-anything"])
    [second] = await accept(database, clock, event("evt_lost_key"))
    lost = WebhookSender(database, Endpoint, Delivery, settings, clock=clock, sealer=other)
    assert await lost.deliver(second) is Outcome.RETRYING
    await lost.upstream.aclose()
    assert len(receiver.received) == 1  # nothing unsigned left the service
    failed = await delivery(database, second)
    assert str(failed.last_error).startswith("not signed: no configured key")
