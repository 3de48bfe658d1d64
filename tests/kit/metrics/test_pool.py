"""DB pool gauges and the pool-wait histogram, on PostgreSQL's real pool."""

from contextlib import AsyncExitStack

from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import create_async_engine

from apiforge.kit import app_state
from apiforge.kit.metrics import build_metrics
from apiforge.kit.metrics.pool import sample_pool, time_pool_waits
from apiforge.kit.settings import DatabaseSettings
from tests.kit.apps import kit_app, serve
from tests.kit.metrics.scrape import parse, scrape, value


async def test_pool_gauges_follow_checkouts(kit_postgres_url: str) -> None:
    app = kit_app(kit_postgres_url, db=DatabaseSettings(pool_size=2, max_overflow=1))
    async with serve(app) as client:
        engine = app_state(app).database.engine
        async with AsyncExitStack() as held:
            await held.enter_async_context(engine.connect())
            one = await scrape(client)
            for _ in range(2):  # the pool's second connection, then one overflow
                await held.enter_async_context(engine.connect())
            three = await scrape(client)
        none = await scrape(client)
    assert value(one, "apiforge_db_pool_size") == 2
    assert value(one, "apiforge_db_pool_checked_out") == 1
    assert value(one, "apiforge_db_pool_overflow") == 0
    assert value(three, "apiforge_db_pool_checked_out") == 3
    assert value(three, "apiforge_db_pool_overflow") == 1
    assert value(none, "apiforge_db_pool_checked_out") == 0
    assert value(none, "apiforge_db_pool_wait_seconds_count") >= 3  # every checkout timed


async def test_a_pool_without_checkouts_to_count_reports_nothing() -> None:
    """An in-memory SQLite database shares one connection (StaticPool)."""
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    metrics = build_metrics(version="test")
    try:
        time_pool_waits(engine, metrics)
        sample_pool(engine, metrics)
        async with engine.connect():
            pass
    finally:
        await engine.dispose()
    samples = parse(generate_latest(metrics.registry).decode())
    assert value(samples, "apiforge_db_pool_size") == 0
    assert value(samples, "apiforge_db_pool_wait_seconds_count") == 0
