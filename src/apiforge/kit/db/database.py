"""`Database`: the engine plus session factories for reads and writes, owned by the lifespan.
Not for: SQL (repositories own it) or transactions boundaries (the request's unit of work)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from apiforge.kit.db.engine import autocommit, create_engine, is_sqlite_url, writer
from apiforge.kit.settings import DatabaseSettings


class Database:
    """Holds one pooled engine and hands out sessions. `expire_on_commit=False`: rows read
    before the commit are still used to render the response after it."""

    _readers: async_sessionmaker[AsyncSession]
    _writers: async_sessionmaker[AsyncSession]
    _autocommit: async_sessionmaker[AsyncSession]

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = is_sqlite_url(str(engine.url))
        self.unbind()

    @classmethod
    def from_url(cls, url: str, settings: DatabaseSettings) -> "Database":
        return cls(create_engine(url, settings))

    def session(self, *, write: bool = True) -> AsyncSession:
        return (self._writers if write else self._readers)()

    def autocommit_session(self) -> AsyncSession:
        """For reads that need no snapshot across statements (GET requests, cached reads): on
        PostgreSQL each statement commits by itself, saving the BEGIN and COMMIT round trips
        (two of three on a one-query read). Not for server-side cursors, which need a
        transaction: use `session(write=False)` for those."""
        return self._autocommit()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (CLI, jobs): commit on success, roll back on error."""
        async with self.session(write=write) as session, session.begin():
            yield session

    def bind_to(self, connection: AsyncConnection) -> None:
        """Tests: run every session inside `connection`'s open transaction, each commit
        becoming a savepoint release, so the test can roll everything back."""
        self._readers = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        self._writers = self._readers
        self._autocommit = self._readers

    def unbind(self) -> None:
        self._readers = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._writers = async_sessionmaker(
            writer(self.engine), expire_on_commit=False, autoflush=False
        )
        self._autocommit = async_sessionmaker(
            autocommit(self.engine), expire_on_commit=False, autoflush=False
        )

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
