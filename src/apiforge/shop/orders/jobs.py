"""The orders' jobs: the confirmation mail of an order's event (placed, cancelled, paid), sent
by the worker after the commit that made the event. Rendered from `templates/order_<event>.*`
(a plain-text part and an HTML one).

Idempotent: once the SMTP server accepted the message, a row in `order_mails` records the
(order, event) pair; a rerun (a retry after a timeout, a redelivery after a worker died) that
finds it sends nothing. A worker dying between the server's accept and that commit can send the
mail twice; both copies carry the same Message-ID (derived from the order and the event), which
mail clients use to show one."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import JobContext, JobRegistry, MailTemplates, format_minor, utcnow
from apiforge.shop.accounts.service import UserDirectory
from apiforge.shop.orders.repository import OrderMailRepository, OrderRepository

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
