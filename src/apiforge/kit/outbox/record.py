"""Writing a domain event to the outbox in the caller's transaction, and the shape it is
published in. Not for: publishing (kit.outbox.relay)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import table_of, utcnow

MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An event as the sinks receive it. `body` is the JSON envelope published as is:
    `{"id", "type", "aggregate_type", "aggregate_id", "occurred_at", "data"}`; `sequence` is
    the outbox row id (increasing per aggregate)."""

    sequence: int
    event_id: str
    type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: datetime
    data: dict[str, Any]

    @property
    def body(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.event_id,
                "type": self.type,
                "aggregate_type": self.aggregate_type,
                "aggregate_id": self.aggregate_id,
                "occurred_at": self.occurred_at.isoformat(),
                "data": self.data,
            }
        )


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to record with `record_events` (the fields of `record_event`)."""

    type: str
    aggregate_type: str
    aggregate_id: str | int
    payload: dict[str, Any]


async def record_event(
    session: AsyncSession,
    model: type[Any],
    *,
    type: str,  # the event's field is called type everywhere it is published
    aggregate_type: str,
    aggregate_id: str | int,
    payload: dict[str, Any],
) -> str:
    """Add an event to `model`'s outbox table (a mapped `OutboxEventMixin`) in `session`'s
    transaction and return its id: it is published after the transaction commits, and never if
    it rolls back. Record it after the change that locks the aggregate's row (an order, a
    product): two transactions changing one aggregate then take outbox ids in commit order,
    which is the order the relay publishes them in. `payload` must be JSON-serialisable and
    hold nothing secret (it leaves the service)."""
    event = NewEvent(type, aggregate_type, aggregate_id, payload)
    (event_id,) = await record_events(session, model, [event])
    return event_id


async def record_events(
    session: AsyncSession, model: type[Any], events: Sequence[NewEvent]
) -> list[str]:
    """`record_event` for several events in one statement (ids in the order given, which is
    the order they are published in per aggregate); their ids."""
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    now = utcnow()
    for event in events:
        for name, value in (("type", event.type), ("aggregate_type", event.aggregate_type)):
            if not 0 < len(value) <= MAX_NAME:
                raise ValueError(f"{name} must be 1-{MAX_NAME} characters")
        ids.append(str(uuid.uuid4()))
        rows.append(
            {
                "event_id": ids[-1],
                "type": event.type,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": str(event.aggregate_id),
                "payload": orjson.dumps(event.payload).decode(),
                "created_at": now,
                "attempts": 0,
            }
        )
    if rows:
        await session.execute(insert(table_of(model)), rows)
    return ids
