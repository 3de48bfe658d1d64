"""`record_event` and `OutboxRelay` on both databases, with in-process sinks: nothing from a
rolled-back transaction, everything committed exactly once per pass, a refusing sink holds
back its aggregate's later events (order per aggregate) but not other aggregates', and on
PostgreSQL several relays at once keep every aggregate's order."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    CallbackSink,
    Database,
    OutboxMessage,
    OutboxRelay,
    TransactionalSink,
    after_commit,
    record_event,
    utcnow,
)
from tests.kit.outbox.tables import Event, MemorySink, Note, first_seen_order, outbox_database


@pytest.fixture
async def database(kit_database_url: str) -> AsyncIterator[Database]:
    async with outbox_database(kit_database_url) as db:
        yield db


async def _record(db: Database, aggregate: str, n: int = 1, type_: str = "thing.changed") -> None:
    async with db.transaction() as session:
        for i in range(n):
            await record_event(
                session,
                Event,
                type=type_,
                aggregate_type="thing",
                aggregate_id=aggregate,
                payload={"n": i},
            )


async def _record_then_fail(db: Database) -> None:
    async with db.transaction() as session:
        await record_event(
            session,
            Event,
            type="thing.changed",
            aggregate_type="thing",
            aggregate_id="1",
            payload={},
        )
        raise RuntimeError("the change failed")


async def test_a_rolled_back_event_is_never_published(database: Database) -> None:
    sink = MemorySink()
    with pytest.raises(RuntimeError, match="failed"):
        await _record_then_fail(database)
    assert await OutboxRelay(database, Event, [sink]).run_once() == 0
    assert sink.received == []


async def test_committed_events_are_published_once_and_marked_sent(database: Database) -> None:
    sink, other = MemorySink(), MemorySink()
    await _record(database, "1", 3)
    relay = OutboxRelay(database, Event, [sink, other])
    assert await relay.run_once() == 3
    assert await relay.run_once() == 0
    assert sink.ids() == other.ids()
    assert [m.data for m in sink.received] == [{"n": 0}, {"n": 1}, {"n": 2}]
    message = sink.received[0]
    assert (message.type, message.aggregate_type, message.aggregate_id) == (
        "thing.changed",
        "thing",
        "1",
    )
    assert relay.stats.published == 3
    assert await relay.lag_seconds() == 0.0
    async with database.read_session() as session:
        sent = (await session.execute(select(Event.sent_at))).scalars().all()
    assert all(moment is not None for moment in sent)


async def test_the_envelope_is_the_documented_json(database: Database) -> None:
    sink = MemorySink()
    await _record(database, "7")
    await OutboxRelay(database, Event, [sink]).run_once()
    envelope = orjson.loads(sink.received[0].body)
    assert set(envelope) == {"id", "type", "aggregate_type", "aggregate_id", "occurred_at", "data"}
    assert envelope["id"] == sink.received[0].event_id


async def test_a_refused_event_holds_back_its_aggregate_only(database: Database) -> None:
    sink = MemorySink()
    sink.refuse = {"a"}
    await _record(database, "a", 2)
    await _record(database, "b", 2)
    relay = OutboxRelay(database, Event, [sink])
    assert await relay.run_once() == 2  # b's two; a's first refused, its second held back
    assert {m.aggregate_id for m in sink.received} == {"b"}
    assert relay.stats.failed == 1
    async with database.read_session() as session:
        failed = (await session.execute(select(Event).where(Event.attempts > 0))).scalars().all()
    assert [(row.aggregate_id, row.attempts) for row in failed] == [("a", 1)]
    assert "ConnectionError" in (failed[0].last_error or "")
    assert await relay.lag_seconds() >= 0.0
    sink.refuse = set()
    assert await relay.run_once() == 2
    assert first_seen_order(sink.received)["a"] == sorted(first_seen_order(sink.received)["a"])


async def test_a_sink_that_hangs_is_cut_by_the_timeout(database: Database) -> None:
    async def hang(message: OutboxMessage) -> None:
        await asyncio.sleep(3600)

    await _record(database, "1")
    relay = OutboxRelay(database, Event, [CallbackSink("hangs", hang)], publish_timeout=0.05)
    assert await relay.run_once() == 0
    assert relay.stats.failed == 1


async def test_run_until_stopped(database: Database) -> None:
    received: list[OutboxMessage] = []
    both = asyncio.Event()

    async def keep(message: OutboxMessage) -> None:
        received.append(message)
        if len(received) == 2:
            both.set()

    relay = OutboxRelay(database, Event, [CallbackSink("keep", keep)], poll_interval=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await _record(database, "1", 2)
    async with asyncio.timeout(10):
        await both.wait()
    stop.set()
    await running
    assert len(received) == 2


async def test_prune_deletes_old_sent_events_only(database: Database) -> None:
    await _record(database, "1", 2)
    relay = OutboxRelay(database, Event, [MemorySink()])
    await relay.run_once()
    await _record(database, "1")  # unsent: never pruned
    async with database.transaction() as session:
        await session.execute(
            update(Event)
            .values(sent_at=utcnow() - timedelta(days=4))
            .where(Event.sent_at.is_not(None))
        )
    assert await relay.prune(older_than=timedelta(days=3)) == 2
    assert await relay.run_once() == 1


async def test_concurrent_relays_keep_each_aggregates_order(kit_postgres_url: str) -> None:
    """Three relays at once over 5 aggregates whose events interleave (each batch of 4 holds
    events of several aggregates that the other relays' batches hold too), with sinks that
    take a random while: every event is published and, deduplicated by id, each aggregate's
    events arrive in order."""
    async with outbox_database(kit_postgres_url, pool_size=4) as db:
        rng = random.Random(11)
        received: list[OutboxMessage] = []

        async def slow(message: OutboxMessage) -> None:
            await asyncio.sleep(rng.random() / 500)
            received.append(message)

        for round_ in range(40):
            for aggregate in range(5):
                await _record(db, str(aggregate), 1, f"thing.r{round_}")
        relays = [
            OutboxRelay(db, Event, [CallbackSink("slow", slow)], batch_size=4) for _ in range(3)
        ]

        async def drain(relay: OutboxRelay) -> None:
            busy = True
            while busy:
                busy = bool(await relay.run_once()) or await relay.lag_seconds() > 0
                await asyncio.sleep(0)

        async with asyncio.timeout(60):
            await asyncio.gather(*(drain(relay) for relay in relays))
        order = first_seen_order(received)
        assert len({m.event_id for m in received}) == 200
        for sequences in order.values():
            assert sequences == sorted(sequences)
            assert len(sequences) == 40
        assert sum(relay.stats.published for relay in relays) == 200


class NoteSink:
    """A `TransactionalSink`: a `Note` per event in the relay's transaction, and an
    after-commit callback; for the aggregates in `refuse` it writes its row, then raises."""

    name = "notes"

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.committed: list[str] = []

    async def publish_in(self, session: AsyncSession, message: OutboxMessage) -> None:
        session.add(Note(event_id=message.event_id))
        await session.flush()
        if message.aggregate_id in self.refuse:
            raise ConnectionError("refused after writing")

        async def note_commit() -> None:
            self.committed.append(message.event_id)

        after_commit(session, note_commit)


async def _notes(database: Database) -> list[str]:
    async with database.read_session() as session:
        return list((await session.scalars(select(Note.event_id).order_by(Note.id))).all())


async def test_a_transactional_sink_writes_in_the_transaction_that_marks_sent(
    database: Database,
) -> None:
    external, notes = MemorySink(), NoteSink()
    notes.refuse = {"2"}
    await _record(database, "1", 2)
    await _record(database, "2", 1)
    relay = OutboxRelay(database, Event, [notes, external])
    assert isinstance(notes, TransactionalSink)
    assert (relay.sinks, relay.transactional) == ([external], [notes])
    assert await relay.run_once() == 2
    ones = [m.event_id for m in external.received if m.aggregate_id == "1"]
    # The refused event's row went with its savepoint; the others' committed with their mark.
    assert await _notes(database) == ones == notes.committed[:2]
    async with database.read_session() as session:
        refused = (await session.execute(select(Event).where(Event.aggregate_id == "2"))).one()[0]
    assert (refused.sent_at, refused.attempts) == (None, 1)
    assert str(refused.last_error).startswith("notes: ConnectionError")
    assert len(external.received) == 3  # the external sinks took it first: at least once

    notes.refuse = set()
    assert await relay.run_once() == 1
    assert await _notes(database) == [*ones, refused.event_id]
    assert await relay.run_once() == 0
