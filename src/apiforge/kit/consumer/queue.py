"""`QueueConsumer`: the queue's topology, the consume loop and what happens to each message.

Why a quorum queue with `x-delivery-limit` rather than a classic queue with a retry header:
the broker counts every delivery, including the ones a consumer never answered because it
was killed mid-message, so a message that crashes its consumer is dead-lettered after
`max_attempts` instead of crashing every consumer forever; a retry header can only count the
failures a living consumer saw. Not for: what a message means (the handler's)."""

import asyncio
import logging
import typing
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apiforge.kit.settings import ConsumerSettings

if TYPE_CHECKING:  # aio-pika is the `rabbitmq` extra: imported when a consumer runs
    from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

logger = logging.getLogger("apiforge.consumer")


class PoisonMessageError(Exception):
    """Raised by a handler for a message that can never be processed (malformed, naming
    nothing known): it is dead-lettered at once, without retries."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the handler sees it. `attempt` counts from 1 (the broker's delivery
    count, so a delivery after a consumer crash is attempt 2)."""

    message_id: str | None
    body: bytes
    headers: dict[str, Any]
    attempt: int


# typing.Callable, not collections.abc's: only typing's alias takes a docstring of its own.
MessageHandler = typing.Callable[[Delivery], Awaitable[None]]
MessageHandler.__doc__ = """`QueueConsumer`'s handler: `async (Delivery) -> None`. Returning
acknowledges the message (commit its effects first); `PoisonMessageError` dead-letters it;
any other exception hands it back for another attempt."""


class QueueConsumer:
    """Consumes `settings.queue` on RabbitMQ at `url` with `handler`: `await run(stop)`
    until `stop` is set, then stops taking messages and lets those in hand finish (up to
    `settings.drain_seconds`); what is left unacknowledged is redelivered to another
    consumer."""

    def __init__(self, url: str, settings: ConsumerSettings, handler: MessageHandler) -> None:
        if not settings.queue:
            raise ValueError("the consumer needs a queue name")
        self.url = url
        self.settings = settings
        self.handler = handler
        self.in_flight = 0
        self.outcomes: dict[str, int] = {"acked": 0, "retried": 0, "dead_lettered": 0}
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.settings.queue}.dead"

    async def declare(self, channel: "AbstractChannel") -> "AbstractQueue":
        """The queue, its dead-letter exchange and dead-letter queue (idempotent)."""
        import aio_pika

        queue_name = self.settings.queue
        dlx = await channel.declare_exchange(
            f"{queue_name}.dlx", aio_pika.ExchangeType.FANOUT, durable=True
        )
        dead = await channel.declare_queue(self.dead_letter_queue, durable=True)
        await dead.bind(dlx)
        return await channel.declare_queue(
            queue_name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                # Deliveries beyond the first that the broker allows before dead-lettering.
                "x-delivery-limit": self.settings.max_attempts - 1,
                "x-dead-letter-exchange": f"{queue_name}.dlx",
            },
        )

    async def run(self, stop: asyncio.Event) -> None:
        import aio_pika

        connection = await aio_pika.connect_robust(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.settings.prefetch)
            queue = await self.declare(channel)
            tag = await queue.consume(self._on_message)
            logger.info("consuming %s (prefetch %d)", self.settings.queue, self.settings.prefetch)
            await stop.wait()
            await queue.cancel(tag)
            try:
                async with asyncio.timeout(self.settings.drain_seconds):
                    await self._idle.wait()
            except TimeoutError:
                logger.warning("%d messages unfinished at shutdown: redelivered", self.in_flight)

    async def _on_message(self, message: "AbstractIncomingMessage") -> None:
        self.in_flight += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def _handle(self, message: "AbstractIncomingMessage") -> None:
        headers = dict(message.headers or {})
        delivery = Delivery(
            message_id=message.message_id,
            body=message.body,
            headers=headers,
            attempt=1 + _delivery_count(headers.get("x-delivery-count")),
        )
        try:
            await self.handler(delivery)
        except PoisonMessageError as exc:
            logger.warning("message %s dead-lettered: %s", message.message_id, exc)
            self.outcomes["dead_lettered"] += 1
            await message.reject(requeue=False)
            return
        except Exception:  # any other failure may pass: hand it back, the broker counts
            logger.exception(
                "message %s failed (attempt %d of %d)",
                message.message_id,
                delivery.attempt,
                self.settings.max_attempts,
            )
            self.outcomes["retried"] += 1
            await asyncio.sleep(self.settings.retry_delay_seconds)
            await message.nack(requeue=True)
            return
        # Only now: the handler's transaction has committed. A crash before this line means
        # a redelivery, which the handler's inbox turns into a no-op.
        await message.ack()
        self.outcomes["acked"] += 1


def _delivery_count(value: object) -> int:
    """The broker's `x-delivery-count` header (absent on a first delivery)."""
    return value if isinstance(value, int) and value > 0 else 0
