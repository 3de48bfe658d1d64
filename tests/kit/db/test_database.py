"""`Database` outside requests: `transaction()` for the CLI and jobs, and `bind_to()`, which the
test fixtures use to roll every test back."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from apiforge.kit import Database
from apiforge.kit.settings import DatabaseSettings


@pytest.fixture
async def database(kit_database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(kit_database_url, DatabaseSettings(pool_size=2))
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE db_notes (body VARCHAR(20) NOT NULL)"))
    try:
        yield db
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP TABLE db_notes"))
        await db.dispose()


async def _notes(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM db_notes ORDER BY body"))).scalars())


async def _insert_then_fail(db: Database, body: str) -> None:
    async with db.transaction() as session:
        await session.execute(text("INSERT INTO db_notes VALUES (:body)"), {"body": body})
        raise RuntimeError("job failed")


async def test_ping(database: Database) -> None:
    await database.ping()


async def test_transaction_commits_on_success(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO db_notes VALUES ('kept')"))
    assert await _notes(database) == ["kept"]


async def test_transaction_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError, match="job failed"):
        await _insert_then_fail(database, "dropped")
    assert await _notes(database) == []


async def test_bind_to_rolls_back_even_committed_sessions(database: Database) -> None:
    """What each test's isolation rests on: sessions commit into savepoints of the test's
    connection, and rolling that connection back undoes them all."""
    async with database.engine.connect() as conn:
        outer = await conn.begin()
        database.bind_to(conn)
        try:
            async with database.session() as session:
                await session.execute(text("INSERT INTO db_notes VALUES ('a')"))
                await session.commit()
            async with database.session(write=False) as session:
                rows = (await session.execute(text("SELECT count(*) FROM db_notes"))).scalar()
                assert rows == 1  # visible inside the test's transaction
            with pytest.raises(RuntimeError, match="job failed"):
                await _insert_then_fail(database, "b")  # rolled back to its savepoint only
            assert (await conn.execute(text("SELECT body FROM db_notes"))).scalars().all() == ["a"]
        finally:
            database.unbind()
            await outer.rollback()
    assert await _notes(database) == []
    async with database.transaction() as session:  # unbound: back to real commits
        await session.execute(text("INSERT INTO db_notes VALUES ('c')"))
    assert await _notes(database) == ["c"]


async def test_autocommit_session_skips_the_transaction_round_trips(kit_postgres_url: str) -> None:
    """GET requests read through `autocommit_session`: on PostgreSQL every statement is its own
    transaction (no BEGIN/COMMIT round trips), while `session()` keeps one snapshot."""
    db = Database.from_url(kit_postgres_url, DatabaseSettings(pool_size=1))
    txid = text("SELECT txid_current()")
    try:
        async with db.autocommit_session() as session:
            first = (await session.execute(txid)).scalar_one()
            second = (await session.execute(txid)).scalar_one()
            await session.commit()
        assert first != second
        async with db.session(write=False) as session:
            first = (await session.execute(txid)).scalar_one()
            second = (await session.execute(txid)).scalar_one()
        assert first == second
    finally:
        await db.dispose()


async def test_pre_ping_is_off_by_default() -> None:
    """On asyncpg a pre-ping is BEGIN; SELECT; ROLLBACK: three round trips per checkout. It is
    off by default (measured in BENCHMARKS.md); a dead pooled connection fails one request
    with a retryable 503 and is replaced."""
    assert DatabaseSettings().pool_pre_ping is False
