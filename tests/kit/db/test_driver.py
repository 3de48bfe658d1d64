"""Driver queries on real PostgreSQL: they run on the session's own connection (inside its
transaction), their failures get the kit's answers (503 for an outage, the dead connection
dropped), and while something watches the engine's statements they go through SQLAlchemy so
that it still sees them."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from apiforge.kit import (
    Database,
    DriverQuery,
    ReadSession,
    format_minor,
    is_postgres,
    money_text_sql,
    utc_text_sql,
)
from apiforge.kit.db.failures import TIMED_OUT, UNREACHABLE, classify
from apiforge.kit.settings import DatabaseSettings
from apiforge.kit.testing.queries import count_queries
from tests.faults.proxy import BLACKHOLE, PASS, FaultProxy
from tests.kit.apps import kit_app, serve

DOUBLED = DriverQuery("SELECT $1::int * 2")
BACKEND = DriverQuery("SELECT pg_backend_pid()")
SUICIDE = DriverQuery("SELECT pg_terminate_backend(pg_backend_pid())")
NOTHING = DriverQuery("SELECT 1 WHERE false")

router = APIRouter()


@router.get("/pid")
async def backend_pid(session: ReadSession) -> int:
    pid: int = await BACKEND.value(session)
    return pid


@router.get("/suicide")
async def suicide(session: ReadSession) -> None:
    await SUICIDE.value(session)


@pytest.fixture
async def database(kit_postgres_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(kit_postgres_url, DatabaseSettings(pool_size=1))
    yield database
    await database.dispose()


async def test_values_come_from_the_session_s_own_transaction(database: Database) -> None:
    async with database.transaction() as session:
        assert is_postgres(session)
        assert await DOUBLED.value(session, 21) == 42
        assert await NOTHING.value(session) is None
        await session.execute(text("CREATE TEMPORARY TABLE driver_rows (n int) ON COMMIT DROP"))
        await session.execute(text("INSERT INTO driver_rows VALUES (7)"))
        assert await DriverQuery("SELECT sum(n) FROM driver_rows").value(session) == 7
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert await BACKEND.value(session) == pid


async def test_watched_engines_see_every_driver_query(database: Database) -> None:
    with count_queries(database.engine) as queries:
        async with database.read_session() as session:
            assert await DOUBLED.value(session, 4) == 8
    assert queries.data_statements == [DOUBLED.sql]


async def test_a_connection_lost_mid_query_is_a_503_and_is_dropped(kit_postgres_url: str) -> None:
    async with serve(kit_app(kit_postgres_url, router, db=DatabaseSettings(pool_size=1))) as client:
        first = (await client.get("/pid")).json()
        response = await client.get("/suicide")
        assert response.status_code == 503
        assert response.json()["detail"] == UNREACHABLE.detail
        again = await client.get("/pid")
        assert again.status_code == 200
        assert again.json() != first  # the pool replaced the dead connection


async def test_a_server_that_stops_answering_is_a_503_not_a_hang(kit_postgres_url: str) -> None:
    port = int(kit_postgres_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as proxy:
        url = kit_postgres_url.replace(f":{port}/", f":{proxy.port}/")
        settings = DatabaseSettings(pool_size=1, client_timeout_seconds=1.0, pool_timeout=1)
        async with serve(kit_app(url, router, db=settings)) as client:
            assert (await client.get("/pid")).status_code == 200
            proxy.set(BLACKHOLE)
            started = time.monotonic()
            response = await client.get("/pid")
            elapsed = time.monotonic() - started
            proxy.set(PASS)
            assert response.status_code == 503
            assert response.json()["detail"] == TIMED_OUT.detail
            assert elapsed < 2 * 1.0 + 1.5  # the client timeout, then asyncpg's cancel attempt
            assert (await client.get("/pid")).status_code == 200


async def test_a_bug_stays_a_bug(database: Database) -> None:
    async with database.read_session() as session:
        with pytest.raises(Exception) as raised:  # noqa: PT011  # whatever SQLAlchemy raises
            await DriverQuery("SELECT * FROM never_created").value(session)
    assert classify(raised.value) is None  # a 500, logged: not "try again later"
    assert getattr(raised.value, "orig", None).sqlstate == "42P01"  # type: ignore[union-attr]  # asyncpg's error


async def test_rows_are_every_row_through_either_path(database: Database) -> None:
    series = DriverQuery("SELECT n, n * n FROM generate_series(1, $1::int) AS n ORDER BY n")
    async with database.read_session() as session:
        direct = [tuple(row) for row in await series.rows(session, 3)]
        with count_queries(database.engine) as queries:
            watched = [tuple(row) for row in await series.rows(session, 3)]
        assert await series.rows(session, 0) == []
    assert direct == watched == [(1, 1), (2, 4), (3, 9)]
    assert queries.data_statements == [series.sql]


@pytest.mark.parametrize("minor", [0, 5, 99, 100, 1250, 123_456_789])
async def test_money_text_is_format_minor_s(database: Database, minor: int) -> None:
    async with database.read_session() as session:
        text_ = await DriverQuery(f"SELECT {money_text_sql('$1::bigint')}").value(session, minor)
    assert text_ == format_minor(minor)


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=5))),
    ],
)
async def test_utc_text_is_orjson_s(database: Database, instant: datetime) -> None:
    query = DriverQuery(f"SELECT {utc_text_sql('$1::timestamptz')}")
    async with database.read_session() as session:
        text_ = await query.value(session, instant)
        assert await query.value(session, None) is None
    # As the driver reads a timestamptz back: in UTC.
    in_utc = instant.astimezone(UTC)
    assert text_ == orjson.dumps(in_utc, option=orjson.OPT_UTC_Z).decode().strip('"')


async def test_a_driver_query_first_in_a_unit_of_work_is_inside_its_transaction(
    database: Database,
) -> None:
    """SQLAlchemy's adapter sends BEGIN before its own first statement only: a driver query
    that comes first must not run (and commit) on its own."""
    xact = DriverQuery("SELECT txid_current()")
    async with database.transaction() as session:
        first = await xact.value(session)
        assert await xact.value(session) == first
        await session.rollback()
    async with database.read_session() as session:  # AUTOCOMMIT: each statement its own
        assert await xact.value(session) != await xact.value(session)
