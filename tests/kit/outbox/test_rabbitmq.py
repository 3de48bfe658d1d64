"""The relay to the machine's RabbitMQ (`relay_for` with `events.amqp_url`): each event reaches
a queue bound to the topic exchange by its type, persistent, with the event id as the AMQP
message id, and is marked sent only after the broker's confirm. A broker that does not answer
fails the pass and leaves the events unsent. Exchanges and queues are named per test run and
deleted after."""

import uuid
from collections.abc import AsyncIterator

import aio_pika
import orjson
import pytest
from pydantic import SecretStr

from apiforge.kit import Database, EventsSettings, record_event, relay_for
from tests.kit.outbox.tables import Event, outbox_database


@pytest.fixture
async def database(kit_database_url: str) -> AsyncIterator[Database]:
    async with outbox_database(kit_database_url) as db:
        yield db


@pytest.fixture
async def channel(rabbitmq_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(rabbitmq_url, timeout=5)
    async with connection:
        yield await connection.channel()


async def test_events_reach_a_bound_queue_with_their_id(
    database: Database, rabbitmq_url: str, channel: aio_pika.abc.AbstractChannel
) -> None:
    name = f"apiforge-test-{uuid.uuid4().hex[:12]}"
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(name, exclusive=True)
    await queue.bind(exchange, "order.*")
    try:
        async with database.transaction() as session:
            placed = await record_event(
                session,
                Event,
                type="order.placed",
                aggregate_type="order",
                aggregate_id=1,
                payload={"total": "9.99"},
            )
            await record_event(
                session,
                Event,
                type="product.price_changed",
                aggregate_type="product",
                aggregate_id=2,
                payload={},
            )
        settings = EventsSettings(amqp_url=SecretStr(rabbitmq_url), exchange=name)
        async with relay_for(database, Event, settings) as relay:
            assert await relay.run_once() == 2
        message = await queue.get(timeout=5)
        await message.ack()
        assert message.message_id == placed
        assert message.routing_key == "order.placed"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert orjson.loads(message.body)["data"] == {"total": "9.99"}
        assert await queue.get(fail=False, timeout=1) is None  # product.* is not bound
    finally:
        await exchange.delete()


async def test_an_unreachable_broker_fails_the_start(database: Database) -> None:
    settings = EventsSettings(amqp_url=SecretStr("amqp://guest:guest@127.0.0.1:1/"))
    with pytest.raises(ConnectionError):
        async with relay_for(database, Event, settings):
            pass
