"""`QueueConsumer` on the machine's RabbitMQ, each test on queues of its own (deleted after):
acknowledged after the handler returns, poison dead-lettered at once, a failing message
dead-lettered after `max_attempts` deliveries, prefetch bounding the messages in hand, and a
stop that lets the message in hand finish."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from apiforge.kit import ConsumerSettings, Delivery, PoisonMessageError, QueueConsumer


@pytest.fixture
async def channel(rabbitmq_url: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(rabbitmq_url, timeout=5)
    async with connection:
        yield await connection.channel()


@pytest.fixture
async def queue_name(channel: AbstractChannel) -> AsyncIterator[str]:
    name = f"apiforge-test-{uuid.uuid4().hex[:12]}"
    yield name
    for queue in (name, f"{name}.dead"):
        await channel.queue_delete(queue)
    await channel.exchange_delete(f"{name}.dlx")


async def _publish(channel: AbstractChannel, queue: str, *bodies: bytes) -> None:
    for i, body in enumerate(bodies):
        message = aio_pika.Message(body, message_id=f"m-{i}")
        await channel.default_exchange.publish(message, routing_key=queue)


class Running:
    """A consumer running in a task for the block; `stop()` ends it."""

    def __init__(self, consumer: QueueConsumer) -> None:
        self.consumer = consumer
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Running":
        self.task = asyncio.create_task(self.consumer.run(self.stop_event))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            async with asyncio.timeout(30):
                await self.task


def _consumer(
    url: str, queue: str, handler: Callable[[Delivery], Awaitable[None]], **settings: object
) -> QueueConsumer:
    values: dict[str, object] = {"queue": queue, "retry_delay_seconds": 0, **settings}
    return QueueConsumer(url, ConsumerSettings.model_validate(values), handler)


async def _declared(url: str, queue: str, **settings: object) -> None:
    """Declare the topology before publishing (a message sent to no queue is dropped)."""

    async def nothing(delivery: Delivery) -> None:
        return None

    consumer = _consumer(url, queue, nothing, **settings)
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        await consumer.declare(await connection.channel())


async def _dead(channel: AbstractChannel, queue: str, count: int) -> list[bytes]:
    dead = await channel.get_queue(f"{queue}.dead")
    bodies: list[bytes] = []
    async with asyncio.timeout(20):
        while len(bodies) < count:
            message = await dead.get(fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            bodies.append(message.body)
    return bodies


async def test_messages_are_handled_and_acknowledged(
    rabbitmq_url: str, channel: AbstractChannel, queue_name: str
) -> None:
    seen: list[Delivery] = []
    three = asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        seen.append(delivery)
        if len(seen) == 3:
            three.set()

    await _declared(rabbitmq_url, queue_name)
    await _publish(channel, queue_name, b"a", b"b", b"c")
    consumer = _consumer(rabbitmq_url, queue_name, handle)
    async with Running(consumer):
        async with asyncio.timeout(20):
            await three.wait()
    assert sorted(d.body for d in seen) == [b"a", b"b", b"c"]
    assert {d.attempt for d in seen} == {1}
    assert consumer.outcomes["acked"] == 3
    queue = await channel.declare_queue(queue_name, passive=True)
    assert queue.declaration_result.message_count == 0


async def test_poison_is_dead_lettered_at_once(
    rabbitmq_url: str, channel: AbstractChannel, queue_name: str
) -> None:
    calls: list[bytes] = []

    async def handle(delivery: Delivery) -> None:
        calls.append(delivery.body)
        raise PoisonMessageError("malformed")

    await _declared(rabbitmq_url, queue_name)
    await _publish(channel, queue_name, b"{not json")
    async with Running(_consumer(rabbitmq_url, queue_name, handle)):
        assert await _dead(channel, queue_name, 1) == [b"{not json"]
    assert calls == [b"{not json"]


async def test_a_failing_message_is_dead_lettered_after_its_attempts(
    rabbitmq_url: str, channel: AbstractChannel, queue_name: str
) -> None:
    attempts: list[int] = []

    async def handle(delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        raise ConnectionError("the database is down")

    await _declared(rabbitmq_url, queue_name, max_attempts=3)
    await _publish(channel, queue_name, b"x")
    async with Running(_consumer(rabbitmq_url, queue_name, handle, max_attempts=3)):
        assert await _dead(channel, queue_name, 1) == [b"x"]
    assert attempts == [1, 2, 3]


async def test_prefetch_bounds_the_messages_in_hand(
    rabbitmq_url: str, channel: AbstractChannel, queue_name: str
) -> None:
    release, two_in_hand, all_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    in_hand = most = done = 0

    async def handle(delivery: Delivery) -> None:
        nonlocal in_hand, most, done
        in_hand += 1
        most = max(most, in_hand)
        if in_hand == 2:
            two_in_hand.set()
        await release.wait()
        in_hand -= 1
        done += 1
        if done == 6:
            all_done.set()

    await _declared(rabbitmq_url, queue_name)
    await _publish(channel, queue_name, *(b"m" for _ in range(6)))
    consumer = _consumer(rabbitmq_url, queue_name, handle, prefetch=2)
    async with Running(consumer) as running:
        async with asyncio.timeout(20):
            await two_in_hand.wait()
        await asyncio.sleep(0.3)  # room for a third delivery, if the broker sent one
        assert most == 2
        release.set()
        async with asyncio.timeout(20):
            await all_done.wait()
        await running.stop()
    assert (most, done, consumer.outcomes["acked"]) == (2, 6, 6)


async def test_stop_lets_the_message_in_hand_finish(
    rabbitmq_url: str, channel: AbstractChannel, queue_name: str
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def handle(delivery: Delivery) -> None:
        started.set()
        await release.wait()

    await _declared(rabbitmq_url, queue_name)
    await _publish(channel, queue_name, b"slow")
    consumer = _consumer(rabbitmq_url, queue_name, handle)
    running = Running(consumer)
    await running.__aenter__()
    async with asyncio.timeout(20):
        await started.wait()
    running.stop_event.set()
    await asyncio.sleep(0.1)
    assert consumer.in_flight == 1  # still in hand: the stop waits for it
    release.set()
    await running.stop()
    assert consumer.outcomes["acked"] == 1


def test_a_queue_name_is_required() -> None:
    async def nothing(delivery: Delivery) -> None:
        return None

    with pytest.raises(ValueError, match="queue"):
        QueueConsumer("amqp://x", ConsumerSettings(), nothing)
