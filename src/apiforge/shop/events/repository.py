"""Reading the shop's own outbox back: the events of one type recorded in a window (the daily
low-stock digest gathers the day's `stock.low` events). Sent events are kept
`events.keep_sent_hours` (72 by default), so a window of the last day is always there."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import table_of
from apiforge.shop.events.models import OutboxEvent

outbox = table_of(OutboxEvent)
_RECORDED = (
    select(outbox.c.payload)
    .where(
        outbox.c.type == bindparam("type"),
        outbox.c.created_at >= bindparam("start"),
        outbox.c.created_at < bindparam("end"),
    )
    .order_by(outbox.c.id)
)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def recorded(self, type_: str, start: datetime, end: datetime) -> Sequence[Any]:
        """The `data` of every `type_` event recorded in [start, end), oldest first."""
        params = {"type": type_, "start": start, "end": end}
        rows = (await self.session.execute(_RECORDED, params)).scalars()
        return [orjson.loads(payload) for payload in rows]
