"""The dead-letter store: a job that used up its attempts is kept as a row (visible with
`apiforge jobs failed`, sent again with `apiforge jobs retry ID`), so a failure survives broker
restarts and can be looked at with SQL. The table is a mixin the service maps onto its own
metadata, as `IdempotencyKeyMixin` is:

    class DeadJob(DeadJobMixin, Base):
        __tablename__ = "dead_jobs"

Not for: deciding when a job is dead (kit.jobs.runner)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit.db.base import IdPk, UTCDateTime, utcnow
from apiforge.kit.db.database import Database

# Enough of an error to act on; a traceback is in the worker's log line.
ERROR_CHARS = 2000


class DeadJobMixin:
    """One job that failed `attempts` times: its name and keyword arguments (IDs, never
    secrets: handlers take IDs), the last error, the enqueuing request, and when it was
    retried (None: still dead)."""

    id: Mapped[IdPk]
    job: Mapped[str] = mapped_column(String(200), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class DeadJob:
    """A dead letter as read from the store."""

    id: int
    job: str
    message_id: str
    arguments: dict[str, Any]
    attempts: int
    error: str
    request_id: str | None
    failed_at: datetime
    retried_at: datetime | None


class DeadLetterStore:
    """Reads and writes the service's mapped `DeadJobMixin` class on `database`; each call is
    its own short transaction."""

    def __init__(self, model: type[Any], database: Database) -> None:
        self.model = model
        self.database = database

    async def add(
        self,
        *,
        job: str,
        message_id: str,
        arguments: dict[str, Any],
        attempts: int,
        error: str,
        request_id: str | None,
    ) -> int:
        row = self.model(
            job=job,
            message_id=message_id,
            arguments=orjson.dumps(arguments).decode(),
            attempts=attempts,
            error=error[:ERROR_CHARS],
            request_id=request_id,
            failed_at=utcnow(),
        )
        async with self.database.transaction() as session:
            session.add(row)
            await session.flush()
            return int(row.id)

    async def list(self, *, include_retried: bool = False, limit: int = 100) -> list[DeadJob]:
        """Newest first."""
        model = self.model
        query = select(model).order_by(model.id.desc()).limit(limit)
        if not include_retried:
            query = query.where(model.retried_at.is_(None))
        async with self.database.transaction(write=False) as session:
            return [_read(row) for row in (await session.scalars(query)).all()]

    async def retry(
        self, dead_id: int, send: Callable[[DeadJob], Awaitable[None]]
    ) -> DeadJob | None:
        """Marks the dead letter retried and calls `send` with it before that commits: a
        send that fails leaves it dead, a commit that fails after a send may send it twice
        (handlers are idempotent). None when there is no such letter or it was retried
        already (two operators retrying at once send it once)."""
        model = self.model
        async with self.database.transaction() as session:
            claimed = await session.execute(
                update(model)
                .where(model.id == dead_id, model.retried_at.is_(None))
                .values(retried_at=utcnow())
                .returning(model)
            )
            row = claimed.scalars().one_or_none()
            if row is None:
                return None
            dead = _read(row)
            await send(dead)
            return dead


def _read(row: Any) -> DeadJob:
    return DeadJob(
        id=row.id,
        job=row.job,
        message_id=row.message_id,
        arguments=orjson.loads(row.arguments),
        attempts=row.attempts,
        error=row.error,
        request_id=row.request_id,
        failed_at=row.failed_at,
        retried_at=row.retried_at,
    )
