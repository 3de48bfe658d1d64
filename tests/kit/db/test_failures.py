"""Database errors as a client sees them, against real databases: an outage (PostgreSQL on a
closed port) is a retryable 503, while a missing table (a schema that was never migrated) is
a bug, answered 500 and logged with the driver's own words, never "try again later"."""

import pytest
from fastapi import APIRouter
from sqlalchemy import text

from apiforge.bench.targets import free_port  # nothing listens there
from apiforge.kit import ReadSession
from apiforge.kit.settings import DatabaseSettings
from tests.kit.apps import capture_kit_logs, kit_app, serve

router = APIRouter()


@router.get("/notes/count")
async def count_notes(session: ReadSession) -> dict[str, int]:
    rows = (await session.execute(text("SELECT count(*) FROM never_created"))).scalar_one()
    return {"count": int(rows)}


async def test_postgres_on_a_closed_port_is_a_retryable_503() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = kit_app(url, router, db=DatabaseSettings(pool_timeout=2))
    async with serve(app) as client:
        response = await client.get("/notes/count")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["code"] == "db.unavailable"
    assert body["detail"] == "The database is not reachable; retry shortly."


async def test_a_missing_table_is_a_500_logged_with_the_drivers_message(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with capture_kit_logs(caplog):
        async with serve(kit_app(sqlite_url, router)) as client:
            response = await client.get("/notes/count")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "never_created" not in response.text
    logged = "database error on GET /notes/count answered 500: OperationalError: no such table"
    assert f"{logged}: never_created" in caplog.text
