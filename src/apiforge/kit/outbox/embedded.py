"""Running the relay: `relay_for` builds one on the configured sinks (RabbitMQ when
`events.amqp_url` is set, plus the service's in-process sinks) for a relay process, and
`embedded_relay` runs it inside a process of the service: the serving process on SQLite (the
one-process default: `make run` needs no broker), `apiforge worker` on PostgreSQL. Not for:
the relay's rules (kit.outbox.relay)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from apiforge.kit.db.database import Database
from apiforge.kit.jobs.worker import in_worker
from apiforge.kit.outbox.metrics import OutboxMetrics
from apiforge.kit.outbox.relay import OutboxRelay
from apiforge.kit.outbox.sinks import EventSink, TransactionalSink
from apiforge.kit.settings import EventsSettings
from apiforge.kit.state import AppState, LifespanResource

logger = logging.getLogger("apiforge.outbox")
SinksFactory = Callable[[AppState], Sequence[EventSink | TransactionalSink]]


@asynccontextmanager
async def relay_for(
    database: Database,
    model: type[Any],
    settings: EventsSettings,
    *,
    sinks: Sequence[EventSink | TransactionalSink] = (),
    metrics: OutboxMetrics | None = None,
) -> AsyncIterator[OutboxRelay]:
    """A relay of `model`'s outbox to RabbitMQ (if `settings.amqp_url`) and `sinks`, its
    broker connection open for the block."""
    async with AsyncExitStack() as stack:
        all_sinks: list[EventSink | TransactionalSink] = list(sinks)
        if settings.amqp_url is not None:
            # Imported here: aio-pika is the `rabbitmq` extra, needed only with a broker URL.
            from apiforge.kit.outbox.rabbitmq import RabbitMqSink

            broker = RabbitMqSink(
                settings.amqp_url.get_secret_value(),
                settings.exchange,
                timeout=settings.publish_timeout_seconds,
            )
            all_sinks.insert(0, await stack.enter_async_context(broker))
        yield OutboxRelay(
            database,
            model,
            all_sinks,
            batch_size=settings.batch_size,
            poll_interval=settings.poll_interval_seconds,
            publish_timeout=settings.publish_timeout_seconds,
            metrics=metrics,
        )


def embedded_relay(model: type[Any], sinks: SinksFactory | None = None) -> LifespanResource:
    """A lifespan resource (`create_app(lifespan_resources=[...])`) that relays `model`'s
    outbox from inside a process of the service while it runs, as `relays_here` decides;
    `sinks(state)` gives the service's in-process sinks."""

    @asynccontextmanager
    async def resource(state: AppState) -> AsyncIterator[None]:
        settings = state.settings.events
        if not relays_here(settings, is_sqlite=state.database.is_sqlite):
            yield
            return
        own_sinks = sinks(state) if sinks is not None else ()
        async with relay_for(state.database, model, settings, sinks=own_sinks) as relay:
            stop = asyncio.Event()
            task = asyncio.create_task(relay.run(stop), name="outbox-relay")
            try:
                yield
            finally:
                # The pass in flight finishes (its events are marked sent); what is left is
                # relayed at the next start, or by another relay.
                stop.set()
                await task

    return resource


def relays_here(settings: EventsSettings, *, is_sqlite: bool) -> bool:
    """Whether this process runs the embedded relay. `events.embedded_relay` true: every
    process of the service does; false: none does (a separate `apiforge outbox relay`
    publishes). Unset: on SQLite the serving process (one writer, no worker needed), on
    PostgreSQL `apiforge worker` (so the API's processes never wait on a broker, and no
    relay Deployment is needed: the worker already has the service's database, job queue and
    graceful shutdown; several workers share the outbox without breaking order)."""
    if settings.embedded_relay is not None:
        return settings.embedded_relay
    return not is_sqlite if in_worker() else is_sqlite
