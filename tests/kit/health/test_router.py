import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from apiforge.bench.targets import free_port  # nothing listens there
from apiforge.kit import Migrations, app_state, create_app
from apiforge.kit.health.router import Readiness
from apiforge.kit.settings import HealthSettings, RedisSettings
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.models import metadata
from tests.kit.apps import capture_kit_logs, kit_app, kit_settings, serve

# Short, for the checks that must fail fast; the ones that must pass keep the default (2 s),
# so a busy machine cannot turn a healthy dependency into a timeout.
FAST = HealthSettings(check_timeout_seconds=0.3)
PATIENT = HealthSettings()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word: a hung dependency."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def _ready(
    database_url: str, health: HealthSettings = FAST, **overrides: Any
) -> tuple[int, dict[str, Any], float]:
    async with serve(kit_app(database_url, health=health, **overrides)) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        elapsed = time.monotonic() - started
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if response.status_code == 200:  # the body the OpenAPI schema documents
        assert Readiness.model_validate(body).model_dump() == body
    return response.status_code, body, elapsed


async def test_the_schema_documents_the_ready_body(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        schema = (await client.get("/openapi.json")).json()
    answers = schema["paths"]["/health/ready"]["get"]["responses"]
    assert answers["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    assert schema["components"]["schemas"]["Readiness"]["required"] == ["status", "checks"]
    problem = answers["503"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}


async def test_live(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_with_the_database(kit_database_url: str) -> None:
    status, body, _ = await _ready(kit_database_url, PATIENT)
    assert status == 200
    assert body == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_with_database_and_redis(kit_database_url: str, redis_url: str) -> None:
    status, body, _ = await _ready(kit_database_url, PATIENT, redis_url=redis_url)
    assert status == 200
    assert body["checks"] == {"database": "ok", "redis": "ok"}


async def test_database_refusing_connections_is_503(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    app = kit_app(url, health=FAST)
    with capture_kit_logs(caplog):
        async with serve(app) as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "health.not_ready"
    assert body["checks"] == {"database": "error"}
    assert "database" in body["detail"]
    assert any("readiness check database failed" in r.getMessage() for r in caplog.records)


async def test_redis_refusing_connections_is_only_degraded(kit_database_url: str) -> None:
    """Redis as a cache: the reads fall back to the database, so the pod stays in the Service
    and says what is wrong in the body (and the metric)."""
    app = kit_app(kit_database_url, health=PATIENT, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with serve(app) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        elapsed = time.monotonic() - started
        scraped = (await client.get("/metrics")).text
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "error"}}
    assert elapsed < 2
    assert 'apiforge_dependency_up{dependency="redis"} 0.0' in scraped
    assert 'apiforge_dependency_up{dependency="database"} 1.0' in scraped


async def test_redis_required_and_refusing_connections_is_503_naming_redis(
    kit_database_url: str,
) -> None:
    status, body, elapsed = await _ready(
        kit_database_url,
        PATIENT,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        redis=RedisSettings(required=True),
    )
    assert status == 503
    assert body["code"] == "health.not_ready"
    assert body["checks"] == {"database": "ok", "redis": "error"}
    assert body["detail"] == "Not ready: redis"
    assert elapsed < 2


async def test_hung_redis_times_out_quickly(sqlite_url: str, silent_port: int) -> None:
    status, body, elapsed = await _ready(sqlite_url, redis_url=f"redis://127.0.0.1:{silent_port}/0")
    assert status == 200
    assert body == {"status": "degraded", "checks": {"database": "ok", "redis": "timeout"}}
    assert elapsed < 1.5  # the health timeout (0.3 s), not Redis's own socket timeout


async def test_a_failing_database_is_503_whatever_redis_does(silent_port: int) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    status, body, _ = await _ready(url, redis_url=f"redis://127.0.0.1:{silent_port}/0")
    assert status == 503
    assert body["checks"] == {"database": "error", "redis": "timeout"}
    assert body["detail"] == "Not ready: database"


async def test_hung_database_times_out_quickly(silent_port: int) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/postgres"
    status, body, elapsed = await _ready(url)
    assert status == 503
    assert body["checks"] == {"database": "timeout"}
    assert elapsed < 1.5  # not the 5 s pool/connect timeout


async def test_ready_reports_pending_migrations_until_they_ran(kit_database_url: str) -> None:
    """A schema behind the code is "not ready" (and says so), not an app that answers every
    request with a database error; once migrated it is ready, and the probe stops asking."""
    history = Migrations(MIGRATIONS_DIR)
    app = create_app(kit_settings(kit_database_url, health=PATIENT), migrations=history)
    async with serve(app) as client:
        behind = await client.get("/health/ready")
        assert behind.status_code == 503
        assert behind.json()["detail"] == "Not ready: migrations"
        assert behind.json()["checks"] == {"database": "ok", "migrations": "pending"}
        database = app_state(app).database
        try:
            async with database.engine.begin() as conn:
                await history.upgrade_on(conn)
            ready = await client.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
            again = await client.get("/health/ready")
            assert again.json()["checks"] == {"database": "ok"}  # known current: not asked again
        finally:
            async with database.engine.begin() as conn:
                await conn.run_sync(metadata.drop_all)
                await conn.execute(text("DROP TABLE alembic_version"))
