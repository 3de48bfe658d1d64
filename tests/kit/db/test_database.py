"""`Database` outside requests: `transaction()` for the CLI and jobs, the three kinds of
session, and `sessions_inside()` (kit.testing), which the test fixtures use to roll every test
back."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Executable, column, delete, insert, table, text, update

from apiforge.kit import Database, ReadOnlySessionError
from apiforge.kit.settings import DatabaseSettings
from apiforge.kit.testing import sessions_inside


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


async def test_sessions_inside_roll_back_even_committed_sessions(database: Database) -> None:
    """What each test's isolation rests on: sessions commit into savepoints of the test's
    connection, and rolling that connection back undoes them all."""
    async with database.engine.connect() as conn:
        outer = await conn.begin()
        try:
            with sessions_inside(database, conn):
                async with database.write_session() as session:
                    await session.execute(text("INSERT INTO db_notes VALUES ('a')"))
                    await session.commit()
                async with database.read_session() as session:
                    rows = (await session.execute(text("SELECT count(*) FROM db_notes"))).scalar()
                    assert rows == 1  # visible inside the test's transaction
                with pytest.raises(RuntimeError, match="job failed"):
                    await _insert_then_fail(database, "b")  # rolled back to its savepoint only
                body = text("SELECT body FROM db_notes")
                assert (await conn.execute(body)).scalars().all() == ["a"]
        finally:
            await outer.rollback()
    assert await _notes(database) == []
    async with database.transaction() as session:  # outside: back to real commits
        await session.execute(text("INSERT INTO db_notes VALUES ('c')"))
    assert await _notes(database) == ["c"]


async def test_read_session_skips_the_transaction_round_trips(kit_postgres_url: str) -> None:
    """Read sessions: on PostgreSQL every statement is its own transaction (no BEGIN/COMMIT
    round trips), while a snapshot session keeps one snapshot."""
    db = Database.from_url(kit_postgres_url, DatabaseSettings(pool_size=1))
    txid = text("SELECT txid_current()")
    try:
        async with db.read_session() as session:
            first = (await session.execute(txid)).scalar_one()
            second = (await session.execute(txid)).scalar_one()
        assert first != second
        async with db.snapshot_session() as session:
            first = (await session.execute(txid)).scalar_one()
            second = (await session.execute(txid)).scalar_one()
        assert first == second
    finally:
        await db.dispose()


NOTES = table("db_notes", column("body"))


@pytest.mark.parametrize(
    "statement",
    [insert(NOTES).values(body="x"), update(NOTES).values(body="y"), delete(NOTES)],
    ids=["insert", "update", "delete"],
)
async def test_read_sessions_refuse_writes(database: Database, statement: Executable) -> None:
    """DML through a read or snapshot session is refused before it runs: on PostgreSQL a read
    session has no transaction, so the write could not be rolled back."""
    async with database.write_session() as session:
        await session.execute(insert(NOTES).values(body="kept"))
        await session.commit()
    for make in (database.read_session, database.snapshot_session):
        async with make() as session:
            with pytest.raises(ReadOnlySessionError, match="declare a WriteSession"):
                await session.execute(statement)
    assert await _notes(database) == ["kept"]


async def test_pre_ping_is_off_by_default() -> None:
    """On asyncpg a pre-ping is BEGIN; SELECT; ROLLBACK: three round trips per checkout. It is
    off by default (measured in BENCHMARKS.md); a dead pooled connection fails one request
    with a retryable 503 and is replaced."""
    assert DatabaseSettings().pool_pre_ping is False
