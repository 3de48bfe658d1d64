"""The outbox relay process (`apiforge outbox relay`) killed with SIGKILL, on PostgreSQL and the
machine's RabbitMQ: first between publishing a batch and marking it sent (the test holds a
SHARE lock on the outbox, which lets the relay lock and publish its batch but blocks its
UPDATE), then while events are committed with no relay running. Restarted, the relay
publishes every event at least once; deduplicated by message id (the event id), each
aggregate's events arrive in order."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage

from apiforge.kit import Database, DatabaseSettings, NewEvent, record_events
from apiforge.shop.events.models import OutboxEvent
from tests.live_server import scratch_database, seed_shop_database
from tests.shop.events.processes import apiforge_process, plain, unique_name, waiting_on_a_lock

AGGREGATES = 3
# Bounds on waiting for the processes (never a timing assertion: a loaded machine is slow).
WAIT_SECONDS = 60


async def _record(url: str, rounds: int, start: int) -> list[str]:
    database = Database.from_url(url, DatabaseSettings(pool_size=1))
    ids: list[str] = []
    try:
        for n in range(start, start + rounds):
            async with database.transaction() as session:
                events = [
                    NewEvent("order.placed", "order", aggregate, {"n": n})
                    for aggregate in range(AGGREGATES)
                ]
                ids += await record_events(session, OutboxEvent, events)
    finally:
        await database.dispose()
    return ids


async def _unsent(url: str) -> int:
    conn = await asyncpg.connect(plain(url), timeout=5)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
    finally:
        await conn.close()


class Receiver:
    """A queue bound to the relay's exchange, collecting every message in arrival order."""

    def __init__(self) -> None:
        self.messages: list[AbstractIncomingMessage] = []

    async def take(self, message: AbstractIncomingMessage) -> None:
        await message.ack()
        self.messages.append(message)

    def first_seen(self) -> dict[str, list[int]]:
        seen: set[str | None] = set()
        order: dict[str, list[int]] = {}
        for message in self.messages:
            if message.message_id not in seen:
                seen.add(message.message_id)
                headers = message.headers or {}
                aggregate, sequence = str(headers["aggregate_id"]), headers["sequence"]
                assert isinstance(sequence, int)
                order.setdefault(aggregate, []).append(sequence)
        return order


def test_a_killed_relay_loses_nothing_and_keeps_order(
    postgres_admin: str, rabbitmq_url: str, tmp_path: Path
) -> None:
    with scratch_database("postgres", tmp_path, postgres_admin) as url:
        seed_shop_database(url)
        asyncio.run(_scenario(url, rabbitmq_url))


async def _scenario(url: str, rabbitmq_url: str) -> None:
    exchange_name = unique_name()
    env = {"APIFORGE_EVENTS__AMQP_URL": rabbitmq_url, "APIFORGE_EVENTS__EXCHANGE": exchange_name}
    connection = await aio_pika.connect(rabbitmq_url, timeout=5)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exchange_name, exclusive=True)
        await queue.bind(exchange, "#")
        receiver = Receiver()
        await queue.consume(receiver.take)
        try:
            first = await _record(url, 20, 0)
            await _kill_between_publish_and_mark(url, env, receiver, len(first))
            assert await _unsent(url) == len(first)  # the batch's marks died with the relay
            second = await _record(url, 10, 20)  # committed while no relay runs
            with apiforge_process(["outbox", "relay"], url, env):
                await _wait(lambda: _unsent(url), 0)
                await _wait_received(receiver, set(first + second))
        finally:
            await exchange.delete()
    duplicates = len(receiver.messages) - len({m.message_id for m in receiver.messages})
    assert duplicates >= len(first)  # the killed batch was published again
    for sequences in receiver.first_seen().values():
        assert sequences == sorted(sequences)
        assert len(sequences) == 30


async def _kill_between_publish_and_mark(
    url: str, env: dict[str, str], receiver: Receiver, count: int
) -> None:
    lock = await asyncpg.connect(plain(url), timeout=5)
    transaction = lock.transaction()
    await transaction.start()
    await lock.execute("LOCK TABLE outbox IN SHARE MODE")
    try:
        with apiforge_process(["outbox", "relay"], url, env) as relay:
            await _wait_received(receiver, None, count)
            await _wait(lambda: waiting_on_a_lock(url, "apiforge-relay"), True)
            relay.kill()
            relay.wait(timeout=15)
    finally:
        await transaction.rollback()
        await lock.close()


async def _wait(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = await probe()
        if value == expected:
            return
        assert time.monotonic() < deadline, f"still {value!r}, waiting for {expected!r}"
        await asyncio.sleep(0.05)


async def _wait_received(receiver: Receiver, ids: set[str] | None, count: int = 0) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        got = {m.message_id for m in receiver.messages}
        if (ids is not None and ids <= got) or (ids is None and len(got) >= count):
            return
        assert time.monotonic() < deadline, f"{len(got)} messages received"
        await asyncio.sleep(0.05)
