"""Rate-limit fixtures: a pinned clock, and one `backend` per implementation (in process, and
Redis on this worker's flushed logical database), both on that clock."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from apiforge.kit import MemoryRateLimitBackend, RateLimitBackend, RedisRateLimitBackend

BACKENDS = ["memory", "redis"]
PREFIX = "test:rl:"


class PinnedClock:
    """Seconds that move only when told (as DRF's throttling tests pin `timer`)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, clock: PinnedClock, redis_url: str, redis_client: Redis
) -> AsyncIterator[RateLimitBackend]:
    """`redis_client` flushes the database around the test; the backend has a client of its
    own with a blocking pool, as the app's is (kit.lifespan), so that 200 concurrent calls
    queue for connections instead of failing past the pool's size."""
    if request.param == "memory":
        yield MemoryRateLimitBackend(clock=clock)
        return
    pool = BlockingConnectionPool.from_url(redis_url, max_connections=20, timeout=5)
    client = Redis.from_pool(pool)
    try:
        yield RedisRateLimitBackend(client, prefix=PREFIX, clock=clock, timeout=5.0)
    finally:
        await client.aclose()
