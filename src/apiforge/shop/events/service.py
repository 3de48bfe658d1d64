"""Recording the shop's domain events in the outbox, in the caller's transaction (so an event
exists exactly when its change committed), and the inbox of inbound messages. Other domains
build an event's data (their schemas) and record it here."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Inbox, NewEvent, record_event, record_events
from apiforge.shop.events.models import InboxMessage, OutboxEvent
from apiforge.shop.events.schemas import PRODUCT, STOCK_LOW, StockLowData

INBOX = Inbox(InboxMessage)


@dataclass(frozen=True, slots=True)
class StockChange:
    product_id: int
    name: str
    before: int
    after: int


class EventLog:
    """The outbox of one unit of work. Record an event after the change that locks its
    aggregate's row, so one aggregate's events are published in commit order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, type_: str, aggregate_type: str, aggregate_id: int, data: Mapping[str, Any]
    ) -> str:
        """Add the event; its id (the AMQP message id, a consumer's dedupe key)."""
        return await record_event(
            self.session,
            OutboxEvent,
            type=type_,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=dict(data),
        )

    async def stock_changed(self, changes: Sequence[StockChange], threshold: int) -> None:
        """`stock.low` for each product whose stock the change took from above `threshold` to
        at or below it, in one statement however many."""
        low = [
            NewEvent(
                STOCK_LOW,
                PRODUCT,
                change.product_id,
                dict(
                    StockLowData(
                        product_id=change.product_id,
                        name=change.name,
                        stock=change.after,
                        threshold=threshold,
                    )
                ),
            )
            for change in changes
            if change.before > threshold >= change.after
        ]
        await record_events(self.session, OutboxEvent, low)

    async def claim_message(self, source: str, message_id: str) -> bool:
        """True if the inbound message is new (apply it in this transaction), False if it was
        already applied."""
        return await INBOX.claim(self.session, source, message_id)
