"""Applying a verified payment event exactly once: the event id is claimed in the inbox in the
same transaction as the order's change, so a replay (the same id again) changes nothing and a
refusal (unknown order, wrong amount, cancelled order) leaves no trace, not even the claim.
Orders are reached through `OrderService`. Flushes, never commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Inbox, JobQueue, ValidationFailedError
from apiforge.shop.events.models import InboxMessage
from apiforge.shop.orders.service import OrderService
from apiforge.shop.payments.errors import PaymentEventReplayedError
from apiforge.shop.payments.schemas import PaymentEvent, PaymentEventType, PaymentReceipt

SOURCE = "payments"
_INBOX = Inbox(InboxMessage)  # the shop's shared inbox, as the stock feed's


class PaymentService:
    def __init__(self, session: AsyncSession, jobs: JobQueue | None = None) -> None:
        self.session = session
        self.orders = OrderService(session, jobs)

    async def apply(self, event_id: str, event: PaymentEvent) -> PaymentReceipt:
        """`payment.succeeded` makes the order `paid`; `payment.failed` leaves it `placed`
        (the buyer may pay again) and is only recorded."""
        if not await _INBOX.claim(self.session, SOURCE, event_id):
            raise PaymentEventReplayedError(event_id)
        order_id = event.data.order_id
        if event.type is PaymentEventType.SUCCEEDED:
            if event.data.amount is None:
                raise ValidationFailedError(
                    ValidationFailedError.FIELDS_DETAIL,
                    errors=[
                        {
                            "loc": ["body", "data", "amount"],
                            "msg": "required when the payment succeeded",
                            "type": "missing",
                        }
                    ],
                )
            await self.orders.mark_paid(order_id, event.data.amount)
        status = await self.orders.status_of(order_id)
        # The rest of the work (order.paid to the outbox, the "paid" mail queued after the
        # commit) is done by OrderService.mark_paid in this transaction.
        return PaymentReceipt(event_id=event_id, order_id=order_id, order_status=status)
