"""Lost PostgreSQL connections on real servers: a pooled connection the server closed is replaced
at checkout (the request never sees it), a server that stops answering (the fault proxy's
blackhole) is cut off by the client-side timeout when one is set and answered 503, never 500,
and a row locked past `lock_timeout` is a 409."""

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from apiforge.kit import Database, ReadSession, WriteSession
from apiforge.kit.db.failures import LOCKED, TIMED_OUT, classify
from apiforge.kit.settings import DatabaseSettings
from tests.faults.figures import record
from tests.faults.proxy import BLACKHOLE, PASS, FaultProxy
from tests.kit.apps import kit_app, serve

router = APIRouter()


@router.get("/pid")
async def backend_pid(session: ReadSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@router.post("/rows/{row_id}")
async def touch_row(row_id: int, session: WriteSession) -> None:
    await session.execute(
        text("UPDATE disconnect_rows SET n = n + 1 WHERE id = :id"), {"id": row_id}
    )


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    kit_postgres_url: str,
) -> None:
    database = Database.from_url(kit_postgres_url, DatabaseSettings(pool_size=1))
    admin = await asyncpg.connect(_dsn(kit_postgres_url))
    try:
        async with database.read_session() as session:
            first = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # What a restart or an idle-session timeout does to an idle pooled connection.
        await admin.execute("SELECT pg_terminate_backend($1)", first)
        await asyncio.sleep(0.2)  # the goodbye reaches the idle connection
        async with database.read_session() as session:
            second = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first  # no error: the dead one never ran a statement
    finally:
        await admin.close()
        await database.dispose()


async def _session_timeouts(url: str, settings: DatabaseSettings) -> tuple[object, object]:
    """(PostgreSQL's lock_timeout, asyncpg's command_timeout) on a connection of `settings`."""
    database = Database.from_url(url, settings)
    try:
        async with database.engine.connect() as connection:
            lock = (await connection.execute(text("SHOW lock_timeout"))).scalar()
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            return lock, driver._config.command_timeout  # asyncpg's; no public accessor
    finally:
        await database.dispose()


async def test_lock_and_client_timeouts_are_set_on_postgres(kit_postgres_url: str) -> None:
    chosen = DatabaseSettings(lock_timeout_ms=700, client_timeout_seconds=2.5)
    assert await _session_timeouts(kit_postgres_url, chosen) == ("700ms", 2.5)
    # No client ceiling unless asked for: a statement run with `SET LOCAL statement_timeout =
    # 0` (a long bulk insert) must not be cut by the client instead.
    assert await _session_timeouts(kit_postgres_url, DatabaseSettings()) == ("2s", None)


@pytest.fixture
async def proxied_postgres(kit_postgres_url: str) -> AsyncIterator[tuple[FaultProxy, str]]:
    """The scratch database reached through the fault proxy."""
    port = int(kit_postgres_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as proxy:
        yield proxy, kit_postgres_url.replace(f":{port}/", f":{proxy.port}/")


async def test_a_server_that_stops_answering_is_a_503_not_a_hang(
    proxied_postgres: tuple[FaultProxy, str],
) -> None:
    proxy, url = proxied_postgres
    settings = DatabaseSettings(pool_size=2, client_timeout_seconds=1.0, pool_timeout=1)
    async with serve(kit_app(url, router, db=settings)) as client:
        assert (await client.get("/pid")).status_code == 200
        proxy.set(BLACKHOLE)
        started = time.monotonic()
        response = await client.get("/pid")
        elapsed = time.monotonic() - started
        proxy.set(PASS)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["detail"] == TIMED_OUT.detail
        # The client's timeout, then asyncpg's attempt to cancel the statement over a new
        # connection, as long again; without it this would hang until TCP gave up, minutes.
        assert elapsed < 2 * 1.0 + 1.5
        record(
            "postgres_blackhole",
            {"client_timeout_seconds": 1.0, "answered_503_after_s": round(elapsed, 2)},
        )
        assert (await client.get("/pid")).status_code == 200  # the dead connection was dropped


async def test_a_row_locked_past_lock_timeout_is_a_409(kit_postgres_url: str) -> None:
    admin = await asyncpg.connect(_dsn(kit_postgres_url))
    await admin.execute("CREATE TABLE disconnect_rows (id int PRIMARY KEY, n int NOT NULL)")
    await admin.execute("INSERT INTO disconnect_rows VALUES (1, 0), (2, 0)")
    holder = admin.transaction()
    try:
        settings = DatabaseSettings(lock_timeout_ms=300)
        async with serve(kit_app(kit_postgres_url, router, db=settings)) as client:
            await holder.start()
            await admin.execute("SELECT * FROM disconnect_rows WHERE id = 1 FOR UPDATE")
            started = time.monotonic()
            locked = await client.post("/rows/1")
            elapsed = time.monotonic() - started
            free = await client.post("/rows/2")
        assert locked.status_code == 409
        assert locked.json()["code"] == "db.conflict"
        assert locked.json()["detail"] == LOCKED.detail
        assert 0.3 <= elapsed < 2
        assert free.status_code == 200
    finally:
        await holder.rollback()
        await admin.execute("DROP TABLE disconnect_rows")
        await admin.close()


def test_classify_knows_a_client_timeout_and_a_lock_timeout() -> None:
    class LockNotAvailableError(Exception):
        sqlstate = "55P03"

    from sqlalchemy.exc import OperationalError

    assert classify(OperationalError("SELECT 1", None, TimeoutError())) is TIMED_OUT
    assert classify(OperationalError("UPDATE t", None, LockNotAvailableError())) is LOCKED
