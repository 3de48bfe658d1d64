"""A Redis the test owns goes away (SIGKILL) and comes back empty on the same port, under two
tiered caches with their own clients ("workers"): while it is gone reads are misses served by
the loader; within 5 s of it accepting connections again, L2 hits and cross-worker
invalidations work again (the breakers closed, the listeners resubscribed)."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from apiforge.kit.cache import TieredCache
from apiforge.kit.cache.breaker import BreakerState
from tests.faults.figures import record
from tests.faults.processes import OwnedRedis
from tests.kit.cache.conftest import new_channel, tiered

KEY, TAGS = "product:1", ("catalog", "product:1")
BACK_WITHIN_SECONDS = 5.0


async def const(value: bytes) -> bytes:
    return value


@pytest.fixture
async def owned(tmp_path: Path) -> AsyncIterator[OwnedRedis]:
    with OwnedRedis(tmp_path) as redis:
        yield redis


async def _workers(redis: OwnedRedis) -> tuple[list[Redis], list[TieredCache]]:
    channel = new_channel()
    clients = [
        Redis.from_url(redis.url(), socket_timeout=0.5, socket_connect_timeout=0.5)
        for _ in range(2)
    ]
    caches = [tiered(client, channel) for client in clients]
    for cache in caches:  # the kit's breaker defaults: 3 failures, a 2 s cool-down
        await cache.start()
    return clients, caches


async def _works_again(a: TieredCache, b: TieredCache, attempt: int) -> bool:
    """One round of the checks: B sees A's write from L2 (a hit there), and an invalidation
    made by A evicts B's L1 copy."""
    key = f"{KEY}:{attempt}"
    value = f"v{attempt}".encode()
    await a.set(key, value, ttl=60, tags=TAGS)
    hits = b.l2.stats.hits
    if await b.get(key, tags=TAGS) != value or b.l2.stats.hits != hits + 1:
        return False
    await a.invalidate_tags("product:1")
    await asyncio.sleep(0.2)  # pub/sub takes milliseconds
    return await b.l1.get(key, tags=TAGS) is None


async def test_hits_and_invalidations_work_within_5_s_of_redis_coming_back(
    owned: OwnedRedis,
) -> None:
    clients, (a, b) = await _workers(owned)
    try:
        assert await _works_again(a, b, 0)
        owned.kill()
        for i in range(5):  # gone: misses (L1 ones, then L2 failures), answered by the loader
            value = await a.get_or_load(f"gone:{i}", lambda: const(b"db"), ttl=60, tags=TAGS)
            assert value == b"db"
            await asyncio.sleep(0.1)
        assert a.l2.breaker.state is not BreakerState.CLOSED

        owned.start()  # returns once it accepts connections
        back = time.monotonic()
        attempt = 1
        while not await _works_again(a, b, attempt):
            assert time.monotonic() - back < BACK_WITHIN_SECONDS
            attempt += 1
            await asyncio.sleep(0.1)
        recovered = time.monotonic() - back
        assert a.listener is not None
        assert b.listener is not None
        assert (a.listener.subscriptions, b.listener.subscriptions) == (2, 2)
    finally:
        for cache in (a, b):
            await cache.aclose()
        for client in clients:
            await client.aclose()
    record("redis_restart", {"hits_and_invalidations_back_after_s": round(recovered, 2)})
