"""The outbox table the kit's outbox tests map (per test process, so xdist workers sharing the
scratch PostgreSQL database do not meet), and a sink that remembers what it was given."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apiforge.kit import Database, OutboxEventMixin, OutboxMessage
from apiforge.kit.db.base import NAMING_CONVENTION
from apiforge.kit.settings import DatabaseSettings

TABLE = f"kit_outbox_{os.getpid()}"


class _Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Event(OutboxEventMixin, _Base):
    __tablename__ = TABLE


class Note(_Base):
    """What a transactional sink writes per event it takes (in the relay's transaction)."""

    __tablename__ = f"{TABLE}_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))


class MemorySink:
    """Keeps every event it accepts; refuses (raises) those of the aggregates in `refuse`."""

    name = "memory"

    def __init__(self) -> None:
        self.received: list[OutboxMessage] = []
        self.refuse: set[str] = set()

    async def publish(self, message: OutboxMessage) -> None:
        if message.aggregate_id in self.refuse:
            raise ConnectionError("the receiver is down")
        self.received.append(message)

    def ids(self) -> list[str]:
        return [message.event_id for message in self.received]


@asynccontextmanager
async def outbox_database(url: str, *, pool_size: int = 5) -> AsyncIterator[Database]:
    """`url`'s database with the outbox table created for the block and dropped after."""
    db = Database.from_url(url, DatabaseSettings(pool_size=pool_size))
    async with db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)
        await conn.run_sync(_Base.metadata.create_all)
    try:
        yield db
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(_Base.metadata.drop_all)
        await db.dispose()


def first_seen_order(messages: list[OutboxMessage]) -> dict[str, list[int]]:
    """Per aggregate, the sequences in the order first received (what a consumer that
    dedupes by event id sees)."""
    seen: set[str] = set()
    order: dict[str, list[int]] = {}
    for message in messages:
        if message.event_id not in seen:
            seen.add(message.event_id)
            order.setdefault(message.aggregate_id, []).append(message.sequence)
    return order
