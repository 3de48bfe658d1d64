"""`Inbox` on both databases: a message id is claimed once, the claim lives and dies with the
caller's transaction, and concurrent claims of one id (separate transactions, as two consumer
processes would have) leave exactly one winner."""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, update
from sqlalchemy.orm import DeclarativeBase

from apiforge.kit import Database, Inbox, InboxMessageMixin, utcnow
from apiforge.kit.db.base import NAMING_CONVENTION
from apiforge.kit.settings import DatabaseSettings

SUFFIX = os.getpid()


class _Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Message(InboxMessageMixin, _Base):
    __tablename__ = f"kit_inbox_{SUFFIX}"


EFFECTS = Table(
    f"kit_inbox_effects_{SUFFIX}", _Base.metadata, Column("id", Integer, primary_key=True)
)
inbox = Inbox(Message)


@pytest.fixture
async def database(kit_database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(kit_database_url, DatabaseSettings(pool_size=6))
    async with db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    try:
        yield db
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(_Base.metadata.drop_all)
        await db.dispose()


async def _apply(db: Database, message_id: str, *, source: str = "feed") -> bool:
    """What a consumer does: claim, and apply the effect only when the message is new."""
    async with db.transaction() as session:
        if not await inbox.claim(session, source, message_id):
            return False
        await session.execute(insert(EFFECTS))
        return True


async def _count(db: Database, table: Table) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_message_is_applied_once(database: Database) -> None:
    assert await _apply(database, "m-1") is True
    assert await _apply(database, "m-1") is False
    assert await _apply(database, "m-2") is True
    assert await _count(database, EFFECTS) == 2


async def test_sources_have_their_own_ids(database: Database) -> None:
    assert await _apply(database, "same", source="payments") is True
    assert await _apply(database, "same", source="feed") is True


async def _claim_then_crash(db: Database) -> None:
    async with db.transaction() as session:
        assert await inbox.claim(session, "feed", "m-1")
        assert await inbox.seen(session, "feed", "m-1")
        raise RuntimeError("crashed before commit")


async def test_a_rolled_back_claim_is_forgotten(database: Database) -> None:
    with pytest.raises(RuntimeError, match="crashed"):
        await _claim_then_crash(database)
    assert await _count(database, inbox.table) == 0
    assert await _apply(database, "m-1") is True  # the redelivery is applied


async def test_two_claims_in_one_transaction(database: Database) -> None:
    async with database.transaction() as session:
        assert await inbox.claim(session, "feed", "m-1") is True
        assert await inbox.claim(session, "feed", "m-1") is False


async def test_concurrent_claims_of_one_id_have_one_winner(database: Database) -> None:
    outcomes = await asyncio.gather(*(_apply(database, "raced") for _ in range(5)))
    assert sorted(outcomes) == [False, False, False, False, True]
    assert await _count(database, EFFECTS) == 1


async def test_a_waiting_claim_wins_when_the_holder_rolls_back(database: Database) -> None:
    """The second claim waits on the first's uncommitted row; the first rolls back (its
    process crashed), so the second is the one that applies the message."""
    holder = database.write_session()
    try:
        assert await inbox.claim(holder, "feed", "m-1") is True
        waiting = asyncio.create_task(_apply(database, "m-1"))
        await asyncio.sleep(0.2)  # let it reach the lock (or SQLite's busy wait); not timed
        await holder.rollback()
        assert await waiting is True
    finally:
        await holder.close()
    assert await _count(database, EFFECTS) == 1


async def test_a_waiting_claim_loses_when_the_holder_commits(database: Database) -> None:
    holder = database.write_session()
    try:
        assert await inbox.claim(holder, "feed", "m-1") is True
        waiting = asyncio.create_task(_apply(database, "m-1"))
        await asyncio.sleep(0.2)
        await holder.commit()
        assert await waiting is False
    finally:
        await holder.close()


async def test_prune_forgets_old_messages_only(database: Database) -> None:
    await _apply(database, "old")
    await _apply(database, "new")
    async with database.transaction() as session:
        t = inbox.table
        week_ago = utcnow() - timedelta(days=8)
        await session.execute(update(t).where(t.c.message_id == "old").values(received_at=week_ago))
    assert await inbox.prune(database, older_than=timedelta(days=7)) == 1
    assert await _apply(database, "new") is False
    assert await _apply(database, "old") is True


@pytest.mark.parametrize(("source", "message_id"), [("", "m"), ("feed", ""), ("feed", "x" * 256)])
async def test_ids_out_of_bounds_are_refused(
    database: Database, source: str, message_id: str
) -> None:
    async with database.transaction() as session:
        with pytest.raises(ValueError, match="characters"):
            await inbox.claim(session, source, message_id)
