"""Claiming, completing, releasing and pruning `Idempotency-Key` rows. A claim is committed on its
own (so a concurrent duplicate sees it in flight); the answer is stored in the request's own
transaction (so the work and its answer commit together, or neither does); a claim whose
request died is taken over once its lease has run out. Not for: HTTP (kit.idempotency.
dependencies)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import CursorResult, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import table_of, utcnow
from apiforge.kit.db.database import Database

IN_PROGRESS, COMPLETED = "in_progress", "completed"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claimed:
    row_id: int
    owner: str


class InFlight:
    """The key is held by a request that is still running (its lease has not run out)."""


class Mismatch:
    """The key was used with another request (another route or body)."""


Outcome = Claimed | StoredAnswer | InFlight | Mismatch


class IdempotencyStore:
    """The rules, on the service's table (a mapped `IdempotencyKeyMixin` class)."""

    def __init__(self, model: type[Any], *, lease_seconds: float, ttl_seconds: int) -> None:
        self.table: Table = table_of(model)
        self.lease = timedelta(seconds=lease_seconds)
        self.ttl = timedelta(seconds=ttl_seconds)

    async def claim(self, database: Database, scope: str, key: str, fingerprint: str) -> Outcome:
        """Take the key for this request, in a transaction of its own, committed before the
        work starts; or say why not."""
        owner = uuid.uuid4().hex
        async with database.transaction() as session:
            now = utcnow()
            row_id = await self._insert(session, scope, key, fingerprint, owner, now)
            if row_id is not None:
                return Claimed(row_id, owner)
            return await self._existing(session, scope, key, fingerprint, owner, now)

    async def _insert(
        self,
        session: AsyncSession,
        scope: str,
        key: str,
        fingerprint: str,
        owner: str,
        now: datetime,
    ) -> int | None:
        values = {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "state": IN_PROGRESS,
            "owner": owner,
            "locked_until": now + self.lease,
            "expires_at": now + self.ttl,
        }
        try:
            # A savepoint: a lost race to the unique constraint leaves the transaction usable.
            async with session.begin_nested():
                inserted = await session.execute(
                    insert(self.table).values(values).returning(self.table.c.id)
                )
                return int(inserted.scalar_one())
        except IntegrityError:
            return None

    async def _existing(
        self,
        session: AsyncSession,
        scope: str,
        key: str,
        fingerprint: str,
        owner: str,
        now: datetime,
    ) -> Outcome:
        t = self.table
        row = (
            await session.execute(
                select(t).where(t.c.scope == scope, t.c.key == key).with_for_update()
            )
        ).one()
        if row.fingerprint != fingerprint:
            return Mismatch()
        if row.state == COMPLETED:
            return StoredAnswer(
                row.response_status, orjson.loads(row.response_headers or "{}"), row.response_body
            )
        if row.locked_until > now:
            return InFlight()
        # The holder died (or overran its lease): take the key over, if nobody else just did.
        taken = await session.execute(
            update(t)
            .where(t.c.id == row.id, t.c.owner == row.owner)
            .values(owner=owner, locked_until=now + self.lease)
        )
        return Claimed(row.id, owner) if _changed(taken) == 1 else InFlight()

    async def complete(self, session: AsyncSession, claim: Claimed, answer: StoredAnswer) -> bool:
        """Store the answer in `session` (the request's transaction); False if the claim was
        lost meanwhile (the lease ran out and another request took the key)."""
        t = self.table
        stored = await session.execute(
            update(t)
            .where(t.c.id == claim.row_id, t.c.owner == claim.owner)
            .values(
                state=COMPLETED,
                response_status=answer.status,
                response_headers=orjson.dumps(answer.headers).decode(),
                response_body=answer.body,
            )
        )
        return _changed(stored) == 1

    async def complete_alone(
        self, database: Database, claim: Claimed, answer: StoredAnswer
    ) -> None:
        """Store an answer whose request wrote nothing (a refusal), in its own transaction."""
        async with database.transaction() as session:
            await self.complete(session, claim, answer)

    async def release(self, session: AsyncSession, claim: Claimed) -> None:
        """Forget the claim (the request failed in a way that is not an answer): a retry with
        the same key runs again at once."""
        t = self.table
        await session.execute(delete(t).where(t.c.id == claim.row_id, t.c.owner == claim.owner))

    async def release_alone(self, database: Database, claim: Claimed) -> None:
        async with database.transaction() as session:
            await self.release(session, claim)

    async def prune(self, database: Database) -> int:
        """Delete the keys past their expiry; how many."""
        async with database.transaction() as session:
            pruned = await session.execute(
                delete(self.table).where(self.table.c.expires_at < utcnow())
            )
        return _changed(pruned)


def _changed(result: object) -> int:
    """Rows an UPDATE or DELETE changed (a `CursorResult`'s rowcount; `execute` is typed as
    returning the general `Result`)."""
    if not isinstance(result, CursorResult):
        raise TypeError("not the result of an UPDATE or DELETE")
    return int(result.rowcount)
