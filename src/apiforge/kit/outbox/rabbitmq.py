"""The RabbitMQ sink: publishes each event to a durable topic exchange (routing key = event
type, AMQP `message_id` = event id, persistent), and returns only once the broker confirmed it
(publisher confirms), so an event is marked sent only when RabbitMQ has it. Not for: consuming
(a service's consumers)."""

from types import TracebackType
from typing import Self

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from apiforge.kit.outbox.record import OutboxMessage


class RabbitMqSink:
    """`async with RabbitMqSink(url, exchange) as sink:` connects (reconnecting by itself when
    the broker comes back), declares the exchange, and closes on exit."""

    name = "rabbitmq"

    def __init__(self, url: str, exchange: str, *, timeout: float = 5.0) -> None:
        self._url = url
        self._exchange_name = exchange
        self._timeout = timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def __aenter__(self) -> Self:
        self._connection = await aio_pika.connect_robust(self._url, timeout=self._timeout)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True, timeout=self._timeout
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._channel = self._exchange = None

    async def publish(self, message: OutboxMessage) -> None:
        if self._exchange is None:
            raise RuntimeError("RabbitMqSink is not connected: use it as `async with`")
        await self._exchange.publish(
            aio_pika.Message(
                message.body,
                message_id=message.event_id,
                type=message.type,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                timestamp=message.occurred_at,
                headers={
                    "aggregate_type": message.aggregate_type,
                    "aggregate_id": message.aggregate_id,
                    "sequence": message.sequence,
                },
            ),
            routing_key=message.type,
            timeout=self._timeout,
        )
