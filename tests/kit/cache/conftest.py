"""Cache fixtures: one `cache` per backend (memory, Redis, tiered), each on a flushed Redis
logical database with its own pub/sub channel (channels ignore logical databases)."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from apiforge.kit.cache import CacheBackend, MemoryCache, RedisCache, TieredCache

BACKENDS = ["memory", "redis", "tiered"]


def new_channel() -> str:
    return f"test:cache:{uuid.uuid4().hex}"


def tiered(redis: Any, channel: str, *, l1_ttl: float = 5.0) -> TieredCache:
    l2 = RedisCache(redis, prefix="test:", channel=channel, timeout=1.0, name="l2")
    return TieredCache(MemoryCache(max_entries=100, name="l1"), l2, l1_ttl=l1_ttl)


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest, redis_client: Redis) -> AsyncIterator[CacheBackend]:
    backend: CacheBackend
    if request.param == "memory":
        backend = MemoryCache(max_entries=100)
    elif request.param == "redis":
        backend = RedisCache(redis_client, prefix="test:", timeout=1.0)
    else:
        backend = tiered(redis_client, new_channel())
    await backend.start()
    try:
        yield backend
    finally:
        await backend.aclose()
