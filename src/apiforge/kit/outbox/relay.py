"""The outbox relay: publishes unsent events to every sink, at least once and in order per
aggregate, then marks them sent; a `TransactionalSink` writes in the transaction that marks
them. Several relays may run on PostgreSQL (each pass locks its
batch with `FOR UPDATE SKIP LOCKED` and leaves out any aggregate whose earlier events another
relay holds); on SQLite one process relays. Not for: recording events (kit.outbox.record) or
what a sink does with them."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import CursorResult, Row, Table, and_, delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import table_of, utcnow
from apiforge.kit.db.database import Database
from apiforge.kit.outbox.metrics import OutboxMetrics
from apiforge.kit.outbox.record import OutboxMessage
from apiforge.kit.outbox.sinks import EventSink, TransactionalSink

logger = logging.getLogger("apiforge.outbox")
Aggregate = tuple[str, str]
Publish = Callable[[OutboxMessage], Awaitable[str | None]]


@dataclass
class RelayStats:
    """Plain counters of this relay (exported by `OutboxMetrics` when given one)."""

    published: int = 0
    failed: int = 0
    passes: int = 0


class OutboxRelay:
    """Relays `model`'s outbox (a mapped `OutboxEventMixin`) to `sinks` (each an `EventSink`
    or a `TransactionalSink`). `run_once()` is one pass (how many events it marked sent);
    `run(stop)` passes until `stop` is set, sleeping `poll_interval` when a pass found
    nothing."""

    def __init__(
        self,
        database: Database,
        model: type[Any],
        sinks: Sequence[EventSink | TransactionalSink],
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        publish_timeout: float = 5.0,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        self.database = database
        self.table: Table = table_of(model)
        self.sinks: list[EventSink] = []
        self.transactional: list[TransactionalSink] = []
        for sink in sinks:
            self.add_sink(sink)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publish_timeout = publish_timeout
        self.metrics = metrics
        self.stats = RelayStats()

    def add_sink(self, sink: EventSink | TransactionalSink) -> None:
        """Register another sink (e.g. the webhook dispatcher) before the relay runs."""
        if isinstance(sink, TransactionalSink):
            self.transactional.append(sink)
        else:
            self.sinks.append(sink)

    async def run(self, stop: asyncio.Event) -> None:
        """Pass until `stop` is set; a pass that fails (database down) is logged and retried
        after the poll interval, so the relay outlives an outage."""
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except (OSError, TimeoutError, DBAPIError) as exc:
                # The database is down or restarting: expected, and retried; no traceback.
                logger.warning("outbox relay pass failed (%s); retrying", type(exc).__name__)
                sent = 0
            except Exception:  # a bug: logged in full, and the loop lives on
                logger.exception("outbox relay pass failed; retrying")
                sent = 0
            if sent == 0:
                await _wait(stop, self.poll_interval)

    async def run_once(self) -> int:
        """One pass: publish up to `batch_size` unsent events and mark them sent."""
        self.stats.passes += 1
        if self.database.is_sqlite:
            sent = await self._pass_single_process()
        else:
            async with self.database.transaction() as session:
                sent = await self._pass_locked(session)
        await self._export_lag()
        return sent

    async def _pass_locked(self, session: AsyncSession) -> int:
        t = self.table
        rows = (
            await session.execute(
                select(t)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        rows = await self._without_held_aggregates(session, rows)

        async def publish(message: OutboxMessage) -> str | None:
            return await self._publish_one(message) or await self._publish_in(session, message)

        sent, failed = await self._publish(rows, publish)
        await self._mark(session, [row.id for row in sent], failed)
        self._count(len(sent), len(failed))
        return len(sent)

    async def _pass_single_process(self) -> int:
        # SQLite: read, publish, then mark in a short write transaction, so the database's one
        # write lock is not held while a sink answers.
        t = self.table
        async with self.database.read_session() as session:
            rows = (
                await session.execute(
                    select(t).where(t.c.sent_at.is_(None)).order_by(t.c.id).limit(self.batch_size)
                )
            ).all()
        sent, failed = await self._publish(rows, self._publish_one)
        async with self.database.transaction() as session:
            if self.transactional:
                # In the transaction that marks them sent, as on PostgreSQL; an aggregate
                # whose event fails here waits, its earlier sinks' copies sent again later.
                sent, refused = await self._publish(sent, partial(self._publish_in, session))
                failed |= refused
            await self._mark(session, [row.id for row in sent], failed)
        self._count(len(sent), len(failed))
        return len(sent)

    async def _without_held_aggregates(
        self, session: AsyncSession, rows: Sequence[Row[Any]]
    ) -> list[Row[Any]]:
        """Drop the rows of any aggregate with an earlier unsent event outside this batch (held
        by another relay, whose lock SKIP LOCKED stepped over): publishing ours first would
        overtake it."""
        if not rows:
            return []
        t = self.table
        ids = [row.id for row in rows]
        held = await session.execute(
            select(t.c.aggregate_type, t.c.aggregate_id, func.min(t.c.id))
            .where(
                t.c.sent_at.is_(None),
                t.c.id < max(ids),
                t.c.id.not_in(ids),
                t.c.aggregate_id.in_({row.aggregate_id for row in rows}),
            )
            .group_by(t.c.aggregate_type, t.c.aggregate_id)
        )
        first_held = {(kind, key): first for kind, key, first in held.all()}
        return [
            row
            for row in rows
            if row.id < first_held.get((row.aggregate_type, row.aggregate_id), row.id + 1)
        ]

    async def _publish(
        self, rows: Sequence[Row[Any]], publish: Publish
    ) -> tuple[list[Row[Any]], dict[int, str]]:
        """Publish in id order; once an aggregate's event fails, its later events in this
        batch wait for the next pass (order per aggregate)."""
        sent: list[Row[Any]] = []
        failed: dict[int, str] = {}
        stuck: set[Aggregate] = set()
        for row in rows:
            aggregate = (row.aggregate_type, row.aggregate_id)
            if aggregate in stuck:
                continue
            error = await publish(_message(row))
            if error is None:
                sent.append(row)
            else:
                failed[row.id] = error
                stuck.add(aggregate)
        return sent, failed

    async def _publish_one(self, message: OutboxMessage) -> str | None:
        for sink in self.sinks:
            try:
                async with asyncio.timeout(self.publish_timeout):
                    await sink.publish(message)
            except Exception as exc:  # noqa: BLE001  # any sink failure: retry the event on a later pass
                return _refused(message, sink.name, exc)
        return None

    async def _publish_in(self, session: AsyncSession, message: OutboxMessage) -> str | None:
        for sink in self.transactional:
            try:
                async with asyncio.timeout(self.publish_timeout), session.begin_nested():
                    await sink.publish_in(session, message)
            except Exception as exc:  # noqa: BLE001  # as above; the savepoint undid its rows
                return _refused(message, sink.name, exc)
        return None

    async def _mark(self, session: AsyncSession, sent: list[int], failed: dict[int, str]) -> None:
        t = self.table
        if sent:
            await session.execute(update(t).where(t.c.id.in_(sent)).values(sent_at=utcnow()))
        for row_id, error in failed.items():
            await session.execute(
                update(t)
                .where(t.c.id == row_id)
                .values(attempts=t.c.attempts + 1, last_error=error)
            )

    def _count(self, sent: int, failed: int) -> None:
        self.stats.published += sent
        self.stats.failed += failed
        if self.metrics is not None:
            self.metrics.published.inc(sent)
            self.metrics.failed.inc(failed)

    async def lag_seconds(self) -> float:
        """Age of the oldest unsent event (0 when none is waiting)."""
        t = self.table
        async with self.database.read_session() as session:
            oldest: datetime | None = await session.scalar(
                select(func.min(t.c.created_at)).where(t.c.sent_at.is_(None))
            )
        if oldest is None:
            return 0.0
        if oldest.tzinfo is None:  # SQLite's min() returns the stored text, not a UTC value
            oldest = datetime.fromisoformat(str(oldest))
        return max(0.0, (utcnow() - oldest).total_seconds())

    async def _export_lag(self) -> None:
        if self.metrics is not None:
            self.metrics.lag.set(await self.lag_seconds())

    async def prune(self, *, older_than: timedelta) -> int:
        """Delete events sent more than `older_than` ago; how many."""
        t = self.table
        async with self.database.transaction() as session:
            pruned = await session.execute(
                delete(t).where(and_(t.c.sent_at.is_not(None), t.c.sent_at < utcnow() - older_than))
            )
        if not isinstance(pruned, CursorResult):
            raise TypeError("not the result of a DELETE")
        return int(pruned.rowcount)


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        sequence=row.id,
        event_id=row.event_id,
        type=row.type,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        occurred_at=row.created_at,
        data=orjson.loads(row.payload),
    )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return


def _refused(message: OutboxMessage, sink: str, exc: Exception) -> str:
    """Logs a sink's refusal of `message`; the error kept on its row (retried on a later pass)."""
    logger.warning(
        "outbox event %s (%s) not accepted by %s: %s",
        message.event_id,
        message.type,
        sink,
        type(exc).__name__,
    )
    return f"{sink}: {type(exc).__name__}: {exc}"[:500]
