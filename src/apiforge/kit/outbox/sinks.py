"""Where relayed events go: the `EventSink` protocol, which the RabbitMQ publisher
(kit.outbox.rabbitmq) and in-process consumers implement, and `TransactionalSink`, a sink whose
effect is rows in the outbox's own database (a webhook dispatcher's deliveries), written in the
relay's transaction. Not for: choosing which events a sink wants (a sink ignores the types it
does not handle)."""

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

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


@runtime_checkable
class TransactionalSink(Protocol):
    """Takes one event by writing rows in `session`, the relay's own transaction (the one that
    marks the event sent), inside a savepoint: the rows and the `sent` mark commit together, or
    neither does (a sink that raises undoes only its own writes, and the event is retried on a
    later pass). Work that must follow the commit (enqueueing a job) goes through
    `after_commit(session, ...)`; a callback registered before a rolled-back savepoint still
    runs, so it must tolerate rows that never committed. The relay runs these after every
    `EventSink` accepted the event."""

    name: str

    async def publish_in(self, session: AsyncSession, message: OutboxMessage) -> None: ...
