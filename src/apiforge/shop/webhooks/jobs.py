"""The webhooks' work after the request: the outbox relay's webhook sink (one pending delivery
per subscribed endpoint, written in the relay's transaction), the job that sends one delivery
(`webhooks.deliver`, enqueued after that commit), and the sweeper that sends the retries as
they fall due (`webhooks.send_due`, scheduled).

Idempotent: a delivery is unique per (endpoint, event), so an event relayed twice adds nothing;
`WebhookSender.deliver` takes a lease and never sends a delivery that succeeded, failed for
good or is not due, so a job run twice (a redelivery, the sweeper meeting a delivery whose own
job is still queued) sends one attempt. The receiver deduplicates by `webhook-id` the attempts
a worker dying mid-call repeats."""

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    AppState,
    JobContext,
    JobQueue,
    JobRegistry,
    OutboxMessage,
    WebhookDispatcher,
    WebhookEvent,
    WebhookSender,
    webhook_sealer,
)
from apiforge.shop.events.schemas import (
    ORDER_CANCELLED,
    ORDER_PAID,
    ORDER_PLACED,
    PRODUCT_PRICE_CHANGED,
    STOCK_LOW,
)
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint

WEBHOOK_JOBS = JobRegistry()
logger = logging.getLogger("apiforge.shop.webhooks")
ORGANIZATION_EVENTS = frozenset({ORDER_PLACED, ORDER_CANCELLED, ORDER_PAID})
# The shared catalog's events concern every organization: offered to all subscribed endpoints.
CATALOG_EVENTS = frozenset({PRODUCT_PRICE_CHANGED, STOCK_LOW})
# The sweeper's tick: a failed attempt's retry goes out at most this long after it fell due
# (the schedule's first delay is 5 s; the later ones are minutes to hours).
SWEEP_SECONDS = 30
SWEEP_BATCH = 500


def webhook_sender(state: AppState) -> WebhookSender:
    """A sender on the app's database and webhook settings, opening the sealed endpoint
    secrets (the caller closes its upstream)."""
    settings = state.settings
    return WebhookSender(
        state.database,
        WebhookEndpoint,
        WebhookDelivery,
        settings.webhooks,
        sealer=webhook_sealer(settings),
    )


@WEBHOOK_JOBS.job("webhooks.deliver", max_attempts=3, timeout_seconds=60)
async def deliver(ctx: JobContext, delivery_id: int) -> None:
    """One attempt of one delivery, if it is due (a failed attempt is not an error of the job:
    the sender records it and schedules the next; only the database failing retries the job)."""
    sender = webhook_sender(ctx.state)
    try:
        outcome = await sender.deliver(delivery_id)
    finally:
        await sender.upstream.aclose()
    logger.info("webhook delivery %s: %s", delivery_id, outcome.value)


@WEBHOOK_JOBS.job(
    "webhooks.send_due", max_attempts=1, timeout_seconds=60, every_seconds=SWEEP_SECONDS
)
async def send_due(ctx: JobContext) -> None:
    """A `webhooks.deliver` job for each delivery whose next attempt is due (the retries; a
    first attempt whose job was lost too). One job each rather than sending them here in turn:
    a slow receiver then holds one worker slot, not the whole sweep."""
    queue = ctx.state.jobs
    if queue is None:
        raise RuntimeError("the shop runs without its job queue (create_app(jobs=...))")
    sender = webhook_sender(ctx.state)
    try:
        due = await sender.due(limit=SWEEP_BATCH)
    finally:
        await sender.upstream.aclose()
    for delivery_id in due:
        await queue.send(deliver, delivery_id=delivery_id)


def webhook_event(message: OutboxMessage) -> WebhookEvent | None:
    """The webhook an outbox event makes, or None: an order event goes to its organization's
    endpoints only (a personal order, `organization_id: null`, to none), a catalog event to
    every organization's endpoints subscribed to it."""
    data: Mapping[str, Any] = message.data
    if message.type in ORGANIZATION_EVENTS:
        tenant = data.get("organization_id")
        if tenant is None:
            return None
        return WebhookEvent(message.event_id, message.type, int(tenant), data, message.occurred_at)
    if message.type in CATALOG_EVENTS:
        return WebhookEvent(message.event_id, message.type, None, data, message.occurred_at)
    return None


class WebhookSink:
    """The relay's webhook sink (a kit `TransactionalSink`): the deliveries of each event are
    written in the relay's transaction and, after its commit, a `webhooks.deliver` job is sent
    for each. Without a job queue (`apiforge outbox relay` run on its own) the deliveries wait
    for the `webhooks.send_due` sweeper instead."""

    name = "webhooks"

    def __init__(self, jobs: JobQueue | None) -> None:
        self.jobs = jobs
        self.dispatcher = WebhookDispatcher(WebhookEndpoint, WebhookDelivery)

    async def publish_in(self, session: AsyncSession, message: OutboxMessage) -> None:
        event = webhook_event(message)
        if event is None:
            return
        for delivery_id in await self.dispatcher.accept(session, event):
            if self.jobs is not None:
                self.jobs.enqueue(session, deliver, delivery_id=delivery_id)


def webhook_sinks(state: AppState) -> list[WebhookSink]:
    """The in-process sinks of the shop's embedded relay (`embedded_relay(..., sinks=...)`)."""
    return [WebhookSink(state.jobs)]
