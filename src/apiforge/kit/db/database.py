"""`Database`: one pooled engine and the three kinds of session a unit of work can have, owned
by the lifespan. Not for: SQL (repositories own it) or a request's transaction boundaries
(kit.db.session declares them per route)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from apiforge.kit.db.engine import autocommit, create_engine, writer
from apiforge.kit.db.tenants import AUTOCOMMIT_OPTION, RLS_OPTION, guard_statement
from apiforge.kit.db.unit_of_work import UnitOfWorkStats, unit_of_work
from apiforge.kit.settings import DatabaseSettings, is_sqlite_url


class ReadOnlySessionError(RuntimeError):
    """A write was sent through a read session: declare `WriteSession` on the route (or use
    `Database.transaction()`). A programming error, so it is a 500, never silently kept."""


class KitSession(Session):
    """The sync session behind every unit of work the kit opens: statements touching a
    tenant-owned table must be scoped to their tenant (kit.db.tenants)."""


event.listen(KitSession, "do_orm_execute", guard_statement)


class ReadOnlySession(KitSession):
    """The sync session behind read sessions: refuses INSERT, UPDATE, DELETE and flushes.
    On PostgreSQL a read session has no transaction (each statement commits by itself), so a
    write sent through one could not be rolled back; it is refused before it runs."""


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("this session only reads; declare a WriteSession to write")


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("this session only reads; declare a WriteSession to write")


@dataclass(frozen=True)
class SessionFactories:
    """`write`: a transaction (BEGIN IMMEDIATE on SQLite). `read`: no transaction on
    PostgreSQL (saves the BEGIN and COMMIT round trips, two of three on a one-query read),
    writes refused. `snapshot`: a read-only transaction, for server-side cursors and reads
    that must agree across statements."""

    write: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]
    snapshot: async_sessionmaker[AsyncSession]

    @classmethod
    def on_engine(
        cls, engine: AsyncEngine, *, row_level_security: bool = False
    ) -> "SessionFactories":
        """`row_level_security`: `bind_tenant` sets the tenant for PostgreSQL's policies."""
        rls = row_level_security and not is_sqlite_url(str(engine.url))
        common: dict[str, Any] = {"expire_on_commit": False, "autoflush": False}
        read_info = {RLS_OPTION: rls, AUTOCOMMIT_OPTION: not is_sqlite_url(str(engine.url))}
        return cls(
            write=async_sessionmaker(
                writer(engine), sync_session_class=KitSession, info={RLS_OPTION: rls}, **common
            ),
            read=async_sessionmaker(
                autocommit(engine), sync_session_class=ReadOnlySession, info=read_info, **common
            ),
            snapshot=async_sessionmaker(
                engine, sync_session_class=ReadOnlySession, info={RLS_OPTION: rls}, **common
            ),
        )

    @classmethod
    def inside(cls, connection: AsyncConnection) -> "SessionFactories":
        """Every session inside `connection`'s open transaction, each commit a savepoint's
        release, so that the owner of the connection can roll everything back (the test
        plugin's per-test rollback). Read sessions still refuse writes."""
        common: dict[str, Any] = {
            "bind": connection,
            "expire_on_commit": False,
            "autoflush": False,
            "join_transaction_mode": "create_savepoint",
        }
        reads = async_sessionmaker(sync_session_class=ReadOnlySession, **common)
        writes = async_sessionmaker(sync_session_class=KitSession, **common)
        return cls(write=writes, read=reads, snapshot=reads)


class Database:
    """One pooled engine and its session factories (`sessions`). `expire_on_commit=False`:
    rows read before the commit are still used to render the response after it.
    `stats` counts after-commit callbacks that failed (exported by kit.metrics)."""

    def __init__(self, engine: AsyncEngine, *, row_level_security: bool = False) -> None:
        self.engine = engine
        self.is_sqlite = is_sqlite_url(str(engine.url))
        self.sessions = SessionFactories.on_engine(engine, row_level_security=row_level_security)
        self.stats = UnitOfWorkStats()

    @classmethod
    def from_url(
        cls, url: str, settings: DatabaseSettings, *, name: str = "apiforge"
    ) -> "Database":
        """`name`: the service's, shown as `application_name` on PostgreSQL."""
        return cls(
            create_engine(url, settings, application_name=name),
            row_level_security=settings.row_level_security,
        )

    def write_session(self) -> AsyncSession:
        """A session in a transaction (BEGIN IMMEDIATE on SQLite); the caller commits (or use
        `transaction()`, which does)."""
        return self.sessions.write()

    def read_session(self) -> AsyncSession:
        """For reads that need no snapshot across statements (cached reads, dashboards): no
        transaction on PostgreSQL. Not for server-side cursors: use `snapshot_session`."""
        return self.sessions.read()

    def snapshot_session(self) -> AsyncSession:
        """A read-only transaction: one snapshot across statements, and what server-side
        cursors (a streamed export) need. Writes are refused as in a read session."""
        return self.sessions.snapshot()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (CLI, jobs, tests), used as `async with
        database.transaction() as session:`: commits when the block ends and then runs its
        `after_commit` callbacks, rolls back when it raises."""
        factory = self.sessions.write if write else self.sessions.snapshot
        async with factory() as session, unit_of_work(session, self.stats):
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
