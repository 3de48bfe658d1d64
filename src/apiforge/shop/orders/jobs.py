"""The orders' jobs: the confirmation mail of an order's event (placed, cancelled, paid), sent
by the worker after the commit that made the event. Rendered from `templates/order_<event>.*`
(a plain-text part and an HTML one).

Idempotent: once the SMTP server accepted the message, a row in `order_mails` records the
(order, event) pair; a rerun (a retry after a timeout, a redelivery after a worker died) that
finds it sends nothing. A worker dying between the server's accept and that commit can send the
mail twice; both copies carry the same Message-ID (derived from the order and the event), which
mail clients use to show one.

And the daily low-stock digest (`orders.low_stock_digest`, 00:15 UTC through `apiforge
scheduler`): for each organization, the products it has ordered whose stock went low the day
before (the day's `stock.low` events in the outbox), one `stock.low.digest` webhook delivery
per endpoint subscribed to that type. Idempotent per (organization, day): the event id is
`stock.low.digest:<organization>:<day>` and a delivery is unique per (endpoint, event), so a
second run of the same day adds nothing. A day the scheduler missed entirely gets no digest."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    Database,
    JobContext,
    JobQueue,
    JobRegistry,
    MailTemplates,
    WebhookDispatcher,
    WebhookEvent,
    format_minor,
    utcnow,
)
from apiforge.shop.accounts.service import UserDirectory
from apiforge.shop.events.repository import OutboxRepository
from apiforge.shop.events.schemas import STOCK_LOW, STOCK_LOW_DIGEST, StockLowDigestData
from apiforge.shop.orders.repository import (
    OrderedProductRepository,
    OrderMailRepository,
    OrderRepository,
)
from apiforge.shop.webhooks.jobs import deliver
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint

ORDER_JOBS = JobRegistry()
TEMPLATES = MailTemplates(Path(__file__).parent / "templates")
EVENTS = frozenset({"placed", "cancelled", "paid"})


@dataclass(frozen=True, slots=True)
class Confirmation:
    to: str
    values: dict[str, Any]


@ORDER_JOBS.job("orders.send_confirmation", max_attempts=6, timeout_seconds=30)
async def send_confirmation(ctx: JobContext, order_id: int, event: str) -> None:
    """Mail the order's placer about `event` (once; see the module's docstring)."""
    if event not in EVENTS:
        raise ValueError(f"no confirmation mail for order event {event!r}")
    mailer = ctx.state.mailer
    if mailer is None:
        raise RuntimeError("the shop runs without its mailer (create_app(mail=True))")
    async with ctx.state.database.transaction(write=False) as session:
        confirmation = await _confirmation(session, order_id, event)
    if confirmation is None:
        return
    message = TEMPLATES.render(
        f"order_{event}", to=confirmation.to, sender=mailer.sender, values=confirmation.values
    )
    domain = mailer.sender.rpartition("@")[2] or "localhost"
    message.replace_header("Message-ID", f"<order-{order_id}-{event}@{domain}>")
    await mailer.send(message)
    async with ctx.state.database.transaction() as session:
        await OrderMailRepository(session).note_sent(order_id, event, utcnow())


async def _confirmation(session: AsyncSession, order_id: int, event: str) -> Confirmation | None:
    """What the mail says, or None when there is nothing to send: the order is gone, the mail
    went out already, or an API key placed it (no person to write to)."""
    orders = OrderRepository(session)
    row = await orders.find(order_id)
    if row is None or row.user_id is None:
        return None
    if await OrderMailRepository(session).was_sent(order_id, event):
        return None
    user = await UserDirectory(session).by_id(row.user_id)
    if user is None:
        return None
    lines = await orders.lines_of([order_id])
    items = [
        {
            "name": line.product_name,
            "quantity": line.quantity,
            "line_total": format_minor(line.unit_price_minor * line.quantity),
        }
        for line in lines
    ]
    values = {
        "order_id": order_id,
        "name": user.full_name or user.email,
        "total": format_minor(row.total_minor),
        "items": items,
    }
    return Confirmation(to=user.email, values=values)


# After midnight UTC, so the day before is complete; a quarter past leaves the relay time to
# record the last minutes' events.
@ORDER_JOBS.job("orders.low_stock_digest", max_attempts=3, timeout_seconds=300, cron="15 0 * * *")
async def low_stock_digest(ctx: JobContext) -> None:
    """Yesterday's (UTC) low-stock digest to every subscribed organization (see the module)."""
    await send_low_stock_digest(ctx.state.database, ctx.state.jobs, now=utcnow())


async def send_low_stock_digest(
    database: Database, jobs: JobQueue | None, *, now: datetime
) -> dict[int, list[int]]:
    """The digest of the UTC day before `now`: per organization with an ordered product among
    the day's `stock.low` events, the new deliveries' ids (none for an organization without a
    subscribed endpoint, or whose digest of that day was made already). A `webhooks.deliver`
    job is enqueued for each once they are committed."""
    day = now.astimezone(UTC).date() - timedelta(days=1)
    start = datetime.combine(day, time.min, tzinfo=UTC)
    dispatcher = WebhookDispatcher(WebhookEndpoint, WebhookDelivery)
    created: dict[int, list[int]] = {}
    async with database.transaction() as session:
        events = await OutboxRepository(session).recorded(STOCK_LOW, start, start + timedelta(1))
        latest = {data["product_id"]: data for data in events}  # a product's last of the day
        ordered = await OrderedProductRepository(session).organizations_of(sorted(latest))
        for organization_id, product_ids in sorted(ordered.items()):
            data = StockLowDigestData(
                organization_id=organization_id,
                day=day.isoformat(),
                products=[latest[product_id] for product_id in sorted(product_ids)],
            )
            event_id = f"{STOCK_LOW_DIGEST}:{organization_id}:{day.isoformat()}"
            event = WebhookEvent(event_id, STOCK_LOW_DIGEST, organization_id, data, now)
            created[organization_id] = await dispatcher.accept(session, event)
            for delivery_id in created[organization_id]:
                if jobs is not None:  # else the `webhooks.send_due` sweep sends them
                    jobs.enqueue(session, deliver, delivery_id=delivery_id)
    return created
