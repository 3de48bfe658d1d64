"""Exactly-once processing of inbound messages (payment webhooks, a broker feed): `Inbox.claim`
inserts the message's row **in the caller's transaction**, so the row and the message's effect
commit together or not at all. Not for: transport (acknowledging, retrying, dead-lettering are
the consumer's) or outbound events (kit.outbox)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import table_of, utcnow
from apiforge.kit.db.database import Database

MAX_SOURCE = 100
MAX_MESSAGE_ID = 255


class Inbox:
    """The rules, on the service's table (a mapped `InboxMessageMixin` class):

        if not await inbox.claim(session, "stock-feed", message_id):
            return  # seen before: its effect is already committed
        ...apply the message in the same session...

    A claim that loses a race to a concurrent one waits for it (PostgreSQL's unique index;
    SQLite's one writer) and then returns False if it committed, True if it rolled back: one
    effect whatever the interleaving."""

    def __init__(self, model: type[Any]) -> None:
        self.table: Table = table_of(model)

    async def claim(self, session: AsyncSession, source: str, message_id: str) -> bool:
        """Record `message_id` from `source` in `session`'s transaction; True if it is new (the
        caller applies it), False if it was already processed (the caller does nothing)."""
        if not 0 < len(source) <= MAX_SOURCE or not 0 < len(message_id) <= MAX_MESSAGE_ID:
            raise ValueError("source and message id must be 1-100 and 1-255 characters")
        connection = await session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(self.table)
            .values(source=source, message_id=message_id, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["source", "message_id"])
            .returning(self.table.c.id)
        )
        inserted = await session.execute(statement)
        return inserted.first() is not None

    async def seen(self, session: AsyncSession, source: str, message_id: str) -> bool:
        """Whether `message_id` from `source` was processed (committed, or claimed in this
        session's transaction)."""
        t = self.table
        found = await session.execute(
            select(t.c.id).where(t.c.source == source, t.c.message_id == message_id)
        )
        return found.first() is not None

    async def prune(self, database: Database, *, older_than: timedelta) -> int:
        """Forget messages received more than `older_than` ago; how many. Keep them longer than
        the sender may redeliver (a broker's requeue, a webhook provider's retry window): a
        message pruned and then redelivered would be applied again."""
        async with database.transaction() as session:
            pruned = await session.execute(
                delete(self.table).where(self.table.c.received_at < utcnow() - older_than)
            )
        if not isinstance(pruned, CursorResult):
            raise TypeError("not the result of a DELETE")
        return int(pruned.rowcount)
