"""The warehouse stock feed end to end: `apiforge consume stock` in a subprocess on PostgreSQL
and the machine's RabbitMQ. Duplicate deliveries of one message id are applied once; poison
(an unknown product, a malformed body) goes to the dead-letter queue; a consumer killed with
SIGKILL in the middle of a message (the test holds the product's row lock, so the consumer's
transaction is open, its inbox row written, when it dies) loses nothing and applies nothing
twice once restarted. The consumer handles one message at a time here (prefetch 1), so a
last "sentinel" message applied means every earlier one was handled."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel

from apiforge.kit import ConsumerSettings, Delivery, QueueConsumer
from tests.live_server import scratch_database, seed_shop_database
from tests.shop.events.processes import apiforge_process, plain, unique_name, waiting_on_a_lock

WAIT_SECONDS = 60


def test_duplicates_poison_and_a_kill_mid_message(
    postgres_admin: str, rabbitmq_url: str, tmp_path: Path
) -> None:
    with scratch_database("postgres", tmp_path, postgres_admin) as url:
        seed_shop_database(url)
        asyncio.run(_scenario(url, rabbitmq_url))


async def _scenario(url: str, rabbitmq_url: str) -> None:
    await _sql(url, "UPDATE products SET stock = 100 WHERE id IN (1, 2, 3)")
    queue = unique_name()
    env = {
        "APIFORGE_EVENTS__AMQP_URL": rabbitmq_url,
        "APIFORGE_STOCK_FEED__QUEUE": queue,
        "APIFORGE_STOCK_FEED__PREFETCH": "1",
        "APIFORGE_STOCK_FEED__RETRY_DELAY_SECONDS": "0",
    }
    connection = await aio_pika.connect(rabbitmq_url, timeout=5)
    async with connection:
        channel = await connection.channel()
        consumer = QueueConsumer(rabbitmq_url, ConsumerSettings(queue=queue), _nothing)
        await consumer.declare(channel)
        try:
            await _duplicates_and_poison(url, env, channel, queue)
            await _kill_mid_message(url, env, channel, queue)
        finally:
            for name in (queue, f"{queue}.dead"):
                await channel.queue_delete(name)
            await channel.exchange_delete(f"{queue}.dlx")


async def _duplicates_and_poison(
    url: str, env: dict[str, str], channel: AbstractChannel, queue: str
) -> None:
    await _send(channel, queue, "dup", {"product_id": 2, "delta": -1})
    await _send(channel, queue, "dup", {"product_id": 2, "delta": -1})
    await _send(channel, queue, "unknown", {"product_id": 999_999, "delta": 1})
    await channel.default_exchange.publish(
        aio_pika.Message(b"{not json", message_id="garbled"), routing_key=queue
    )
    await _send(channel, queue, "sentinel-1", {"product_id": 3, "delta": -1})
    with apiforge_process(["consume", "stock"], url, env):
        await _wait_for(lambda: _stock(url, 3), 99)
    assert await _stock(url, 2) == 99  # applied once
    assert sorted(await _dead_letters(channel, queue, 2)) == ["garbled", "unknown"]


async def _kill_mid_message(
    url: str, env: dict[str, str], channel: AbstractChannel, queue: str
) -> None:
    lock = await asyncpg.connect(plain(url), timeout=5)
    transaction = lock.transaction()
    await transaction.start()
    await lock.execute("SELECT stock FROM products WHERE id = 1 FOR UPDATE")
    try:
        await _send(channel, queue, "killed", {"product_id": 1, "delta": -5})
        with apiforge_process(["consume", "stock"], url, env) as consumer:
            await _wait_for(lambda: waiting_on_a_lock(url, "apiforge-stock"), True)
            consumer.kill()
            consumer.wait(timeout=15)
    finally:
        await transaction.rollback()
        await lock.close()
    assert await _stock(url, 1) == 100
    assert await _inbox(url, "killed") == 0  # its claim died with the transaction
    with apiforge_process(["consume", "stock"], url, env):
        # The broker redelivers the message the killed consumer held: applied now, once.
        await _wait_for(lambda: _stock(url, 1), 95)
        await _send(channel, queue, "killed", {"product_id": 1, "delta": -5})  # a duplicate
        await _send(channel, queue, "sentinel-2", {"product_id": 3, "delta": -1})
        await _wait_for(lambda: _stock(url, 3), 98)
    assert await _stock(url, 1) == 95
    assert await _inbox(url, "killed") == 1


async def _nothing(delivery: Delivery) -> None:
    return None


async def _send(channel: AbstractChannel, queue: str, message_id: str, body: object) -> None:
    message = aio_pika.Message(orjson.dumps(body), message_id=message_id)
    await channel.default_exchange.publish(message, routing_key=queue)


async def _dead_letters(channel: AbstractChannel, queue: str, count: int) -> list[str]:
    dead = await channel.get_queue(f"{queue}.dead")
    ids: list[str] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while len(ids) < count:
        assert time.monotonic() < deadline, f"{len(ids)} dead letters"
        message = await dead.get(fail=False, timeout=5)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        ids.append(message.message_id or "")
    return ids


async def _sql(url: str, query: str, *args: object) -> object:
    conn = await asyncpg.connect(plain(url), timeout=5)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def _stock(url: str, product_id: int) -> object:
    return await _sql(url, "SELECT stock FROM products WHERE id = $1", product_id)


async def _inbox(url: str, message_id: str) -> object:
    return await _sql(url, "SELECT count(*) FROM inbox WHERE message_id = $1", message_id)


async def _wait_for(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while (value := await probe()) != expected:
        assert time.monotonic() < deadline, f"still {value!r}, waiting for {expected!r}"
        await asyncio.sleep(0.05)
