"""The timed pool reports every checkout's wait, failed ones included, and keeps reporting
after the engine is disposed (which replaces the pool)."""

import pytest
import sqlalchemy.exc
from sqlalchemy.pool import StaticPool

from apiforge.kit.db.engine import create_engine, pool_class_for
from apiforge.kit.db.pool import TimedQueuePool
from apiforge.kit.settings import DatabaseSettings


async def test_each_checkout_is_timed_and_survives_dispose(kit_database_url: str) -> None:
    engine = create_engine(kit_database_url, DatabaseSettings(pool_size=2))
    waits: list[float] = []
    pool = engine.pool
    assert isinstance(pool, TimedQueuePool)
    pool.wait_observer = waits.append
    try:
        for _ in range(3):
            async with engine.connect():
                pass
        assert len(waits) == 3
        assert all(wait >= 0 for wait in waits)
        await engine.dispose()
        async with engine.connect():
            pass
        assert engine.pool is not pool
        assert len(waits) == 4
    finally:
        await engine.dispose()


async def test_a_checkout_that_times_out_is_timed_too(kit_postgres_url: str) -> None:
    engine = create_engine(kit_postgres_url, DatabaseSettings(pool_size=1, pool_timeout=0.1))
    waits: list[float] = []
    assert isinstance(engine.pool, TimedQueuePool)
    engine.pool.wait_observer = waits.append
    try:
        async with engine.connect():
            with pytest.raises(sqlalchemy.exc.TimeoutError):
                async with engine.connect():
                    pass
        assert len(waits) == 2
    finally:
        await engine.dispose()


def test_an_in_memory_sqlite_database_keeps_its_static_pool() -> None:
    assert pool_class_for("sqlite+aiosqlite:///:memory:") is StaticPool
    assert pool_class_for("postgresql+asyncpg://db.internal/shop") is TimedQueuePool


def test_without_an_observer_nothing_is_timed(kit_database_url: str) -> None:
    engine = create_engine(kit_database_url, DatabaseSettings())
    assert isinstance(engine.pool, TimedQueuePool)
    assert engine.pool.wait_observer is None
