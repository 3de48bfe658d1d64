"""DB pool figures for the metrics: the gauges read from the pool, and the pool-wait histogram
handed to the timed pool. Not for: the pool itself (kit.db.pool)."""

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from apiforge.kit.db.pool import TimedQueuePool
from apiforge.kit.metrics.registry import AppMetrics


def time_pool_waits(engine: AsyncEngine, metrics: AppMetrics) -> None:
    """Makes the engine's pool report each checkout's wait (a no-op for a pool without
    checkouts to time: an in-memory SQLite database's single connection)."""
    pool = engine.pool
    if isinstance(pool, TimedQueuePool):
        pool.wait_observer = metrics.pool_wait.observe


def sample_pool(engine: AsyncEngine, metrics: AppMetrics) -> None:
    """Sets the pool gauges from the pool's own counters. SQLAlchemy's `overflow()` runs from
    -pool_size (nothing opened yet) upwards; the gauge shows only connections beyond the size."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return
    metrics.pool_size.set(pool.size())
    metrics.pool_checked_out.set(pool.checkedout())
    metrics.pool_overflow.set(max(pool.overflow(), 0))
