"""Where relayed events go: the `EventSink` protocol, which the RabbitMQ publisher
(kit.outbox.rabbitmq) and in-process consumers (a webhook dispatcher) implement. Not for:
choosing which events a sink wants (a sink ignores the types it does not handle)."""

from collections.abc import Awaitable, Callable
from typing import Protocol

from apiforge.kit.outbox.record import OutboxMessage


class EventSink(Protocol):
    """Takes one event; returns once it is durably accepted (a broker's confirm, a row
    committed), raises if not. The relay publishes an event to every sink and marks it sent
    only when all accepted it, so a sink may see an event more than once (after a crash or
    another sink's failure): dedupe by `message.event_id`."""

    name: str

    async def publish(self, message: OutboxMessage) -> None: ...


class CallbackSink:
    """An in-process sink from an async function: `CallbackSink("webhooks", dispatch)`."""

    def __init__(self, name: str, callback: Callable[[OutboxMessage], Awaitable[None]]) -> None:
        self.name = name
        self._callback = callback

    async def publish(self, message: OutboxMessage) -> None:
        await self._callback(message)
