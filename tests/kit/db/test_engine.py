"""Engine set-up per backend: SQLite pragmas and BEGIN modes, PostgreSQL pool and timeouts."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from apiforge.kit import Database
from apiforge.kit.settings import DatabaseSettings
from apiforge.kit.testing import count_queries


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(sqlite_url, DatabaseSettings(sqlite_busy_timeout_ms=1234))
    yield database
    await database.dispose()


async def test_sqlite_connection_pragmas(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        pragma = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 1234,
        "synchronous": 1,
    }


async def test_sqlite_enforces_foreign_keys(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        await session.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
        await session.execute(
            text(
                "CREATE TABLE children"
                " (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id))"
            )
        )
    with pytest.raises(DBAPIError, match="FOREIGN KEY"):
        async with sqlite_db.transaction() as session:
            await session.execute(text("INSERT INTO children (parent_id) VALUES (99)"))


@pytest.mark.parametrize(("write", "begin"), [(True, "BEGIN IMMEDIATE"), (False, "BEGIN DEFERRED")])
async def test_sqlite_begin_mode(sqlite_db: Database, write: bool, begin: str) -> None:
    with count_queries(sqlite_db.engine) as queries:
        make = sqlite_db.write_session if write else sqlite_db.snapshot_session
        async with make() as session:
            await session.execute(text("SELECT 1"))
            await session.commit()
    assert queries.statements[:2] == [begin, "SELECT 1"]


async def test_sqlite_writer_takes_the_lock_up_front(sqlite_url: str) -> None:
    """IMMEDIATE: a second writer waits (then fails) at BEGIN, instead of both reading and one
    failing to upgrade half way through; readers are not blocked (WAL)."""
    database = Database.from_url(sqlite_url, DatabaseSettings(sqlite_busy_timeout_ms=100))
    try:
        async with database.transaction() as setup:
            await setup.execute(text("CREATE TABLE t (x INTEGER)"))
        async with database.write_session() as first:
            await first.execute(text("INSERT INTO t VALUES (1)"))
            async with database.read_session() as reader:
                assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            with pytest.raises(OperationalError, match="database is locked"):
                async with database.write_session() as second:
                    await second.execute(text("SELECT 1"))
            await first.commit()
    finally:
        await database.dispose()


async def test_postgres_session_settings(postgres_admin: str) -> None:
    settings = DatabaseSettings(
        pool_size=3, max_overflow=2, statement_timeout_ms=1234, pool_pre_ping=True
    )
    database = Database.from_url(postgres_admin, settings)
    try:
        async with database.read_session() as session:
            timeout = (await session.execute(text("SHOW statement_timeout"))).scalar()
            name = (await session.execute(text("SHOW application_name"))).scalar()
            jit = (await session.execute(text("SHOW jit"))).scalar()
        assert (timeout, name, jit) == ("1234ms", "apiforge", "off")
        pool = database.engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]  # QueuePool API, not on Pool
        assert pool._max_overflow == 2  # type: ignore[attr-defined]  # no public accessor
        assert pool._pre_ping is True
    finally:
        await database.dispose()


async def test_postgres_statement_timeout_is_enforced(postgres_admin: str) -> None:
    database = Database.from_url(postgres_admin, DatabaseSettings(statement_timeout_ms=100))
    try:
        async with database.read_session() as session:
            with pytest.raises(DBAPIError, match="statement timeout"):
                await session.execute(text("SELECT pg_sleep(2)"))
    finally:
        await database.dispose()


async def test_postgres_pool_checkout_times_out(postgres_admin: str) -> None:
    settings = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.2)
    database = Database.from_url(postgres_admin, settings)
    try:
        async with database.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(PoolTimeoutError):
                async with database.engine.connect() as waiting:
                    await waiting.execute(text("SELECT 1"))
            assert loop.time() - started < 2
    finally:
        await database.dispose()
