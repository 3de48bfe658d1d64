"""Running the relay: `relay_for` builds one on the configured sinks (RabbitMQ when
`events.amqp_url` is set, plus the service's in-process sinks) for a relay process, and
`embedded_relay` runs it inside the app process for the one-process default (`make run` on
SQLite, no broker). Not for: the relay's rules (kit.outbox.relay)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from apiforge.kit.db.database import Database
from apiforge.kit.outbox.metrics import OutboxMetrics
from apiforge.kit.outbox.relay import OutboxRelay
from apiforge.kit.outbox.sinks import EventSink
from apiforge.kit.settings import EventsSettings
from apiforge.kit.state import AppState, LifespanResource

logger = logging.getLogger("apiforge.outbox")
SinksFactory = Callable[[AppState], Sequence[EventSink]]


@asynccontextmanager
async def relay_for(
    database: Database,
    model: type[Any],
    settings: EventsSettings,
    *,
    sinks: Sequence[EventSink] = (),
    metrics: OutboxMetrics | None = None,
) -> AsyncIterator[OutboxRelay]:
    """A relay of `model`'s outbox to RabbitMQ (if `settings.amqp_url`) and `sinks`, its
    broker connection open for the block."""
    async with AsyncExitStack() as stack:
        all_sinks = list(sinks)
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
    outbox from inside the app process while it runs, when `settings.events.embedded_relay`
    is on; `sinks(state)` gives the service's in-process sinks."""

    @asynccontextmanager
    async def resource(state: AppState) -> AsyncIterator[None]:
        settings = state.settings.events
        if not settings.embedded_relay:
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
