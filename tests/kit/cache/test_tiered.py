"""TieredCache across processes: two caches with their own Redis connections ("workers")
sharing one Redis. An invalidation in one reaches the other's L1 through pub/sub."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from apiforge.kit.cache import MemoryCache, RedisCache, TieredCache
from apiforge.kit.cache.tiered import L2Gate
from tests.kit.cache.conftest import new_channel, tiered

KEY, TAGS = "product:1", ["catalog", "product:1"]
BOUND_SECONDS = 0.5  # pub/sub delivery on one machine takes milliseconds


async def value(v: bytes) -> bytes:
    return v


@pytest.fixture
async def workers(redis_url: str, redis_client: Redis) -> AsyncIterator[list[TieredCache]]:
    channel = new_channel()
    clients = [Redis.from_url(redis_url, socket_timeout=2) for _ in range(2)]
    caches = [tiered(client, channel) for client in clients]
    for cache in caches:
        await cache.start()
    yield caches
    for cache in caches:
        await cache.aclose()
    for client in clients:
        await client.aclose()


async def test_an_invalidation_in_one_worker_reaches_the_other_l1(
    workers: list[TieredCache],
) -> None:
    a, b = workers
    assert await a.get_or_load(KEY, lambda: value(b"old"), ttl=60, tags=TAGS) == b"old"
    assert await b.get_or_load(KEY, lambda: value(b"unused"), ttl=60, tags=TAGS) == b"old"
    assert await b.l1.get(KEY, tags=TAGS) == b"old"  # B now serves it from its L1

    await a.invalidate_tags("product:1")
    started = time.monotonic()
    while await b.l1.get(KEY, tags=TAGS) is not None:
        assert time.monotonic() - started < BOUND_SECONDS
        await asyncio.sleep(0.005)
    assert await b.get_or_load(KEY, lambda: value(b"new"), ttl=60, tags=TAGS) == b"new"
    assert await a.get(KEY, tags=TAGS) == b"new"  # from L2: A's L1 was bumped locally


async def test_without_the_listener_an_l1_stays_stale_until_its_ttl(
    redis_url: str, redis_client: Redis
) -> None:
    """What the listener is for (and proof the test above can fail)."""
    channel = new_channel()
    a = tiered(redis_client, channel)
    b = tiered(redis_client, channel, l1_ttl=0.3)  # never started: no listener
    await a.start()
    try:
        await a.set(KEY, b"old", ttl=60, tags=TAGS)
        assert await b.get(KEY, tags=TAGS) == b"old"
        await a.invalidate_tags("catalog")
        await asyncio.sleep(0.05)
        assert await b.get(KEY, tags=TAGS) == b"old"  # stale, but only for the L1 TTL
        await asyncio.sleep(0.3)
        assert await b.get(KEY, tags=TAGS) is None
    finally:
        await a.aclose()


async def test_an_l2_hit_fills_l1_no_longer_than_the_l2_entry_lives(
    redis_client: Redis,
) -> None:
    writer, reader = tiered(redis_client, new_channel()), tiered(redis_client, new_channel())
    await writer.set("k", b"v", ttl=0.15)
    assert await reader.get("k") == b"v"  # filled into reader's L1 (l1_ttl is 5 s)
    await asyncio.sleep(0.2)
    assert await reader.l1.get("k") is None
    assert await reader.get("k") is None


async def test_a_listener_that_lost_its_subscription_resubscribes_and_clears_l1(
    workers: list[TieredCache], redis_client: Redis
) -> None:
    a, b = workers
    assert b.listener is not None
    await b.set(KEY, b"cached", ttl=60, tags=TAGS)
    assert b.listener.subscriptions == 1
    # Kill both workers' pub/sub connections: those subscribed on this test's logical
    # database (other xdist workers use other databases).
    db = redis_client.connection_pool.connection_kwargs["db"]
    clients = await redis_client.client_list()
    subscribers = [c for c in clients if int(c["sub"]) > 0 and int(c["db"]) == db]
    assert len(subscribers) == 2
    for client in subscribers:
        await redis_client.client_kill_filter(_id=client["id"])
    started = time.monotonic()
    while b.listener.subscriptions < 2:
        assert time.monotonic() - started < 2
        await asyncio.sleep(0.01)
    assert await b.l1.get(KEY, tags=TAGS) is None  # messages may have been missed: forgotten
    await a.invalidate_tags("catalog")  # and the new subscription works
    await b.l1.set(KEY, b"after", ttl=60, tags=TAGS)
    await a.invalidate_tags("catalog")
    started = time.monotonic()
    while await b.l1.get(KEY, tags=TAGS) is not None:
        assert time.monotonic() - started < BOUND_SECONDS
        await asyncio.sleep(0.005)


async def test_malformed_and_own_messages_are_ignored(workers: list[TieredCache]) -> None:
    a, b = workers
    assert a.l2.channel is not None
    await b.l1.set(KEY, b"v", ttl=60, tags=TAGS)
    await a.l2.redis.publish(a.l2.channel, b"not json")
    await a.l2.redis.publish(a.l2.channel, b'{"origin": "x"}')
    await a.l2.redis.publish(
        a.l2.channel, b'{"origin": "%s", "tags": ["catalog"]}' % b.l2.origin.encode()
    )
    await asyncio.sleep(0.1)
    assert await b.l1.get(KEY, tags=TAGS) == b"v"


async def test_a_key_goes_to_redis_only_from_its_second_miss(
    redis_client: Redis,
) -> None:
    """`l2_after_misses=2`: the first miss loads into L1 alone (no Redis read, no write); the
    second is shared as before, so the other worker then reads it from Redis."""
    channel = new_channel()
    l2 = RedisCache(redis_client, prefix="test:", channel=channel, timeout=1.0, name="l2")
    a = TieredCache(MemoryCache(max_entries=100), l2, l1_ttl=0.05, l2_after_misses=2)
    b = tiered(redis_client, channel)
    loads: list[bytes] = []

    async def load(v: bytes) -> bytes:
        loads.append(v)
        return v

    assert await a.get_or_load(KEY, lambda: load(b"first"), ttl=60, tags=TAGS) == b"first"
    assert a.l2.stats.hits + a.l2.stats.misses == 0  # Redis not asked
    assert await redis_client.exists(f"test:e:{KEY}") == 0  # nor written
    assert await a.get(KEY, tags=TAGS) == b"first"  # but L1 serves it
    await asyncio.sleep(0.06)  # the L1 entry expires: the next read is the second miss
    assert await a.get_or_load(KEY, lambda: load(b"second"), ttl=60, tags=TAGS) == b"second"
    assert a.l2.stats.misses == 1
    assert await b.get_or_load(KEY, lambda: load(b"unused"), ttl=60, tags=TAGS) == b"second"
    assert loads == [b"first", b"second"]
    with pytest.raises(ValueError, match="l2_after_misses"):
        TieredCache(MemoryCache(), l2, l2_after_misses=0)


def test_the_l2_gate_samples_while_l2_reads_miss_and_opens_when_they_hit() -> None:
    gate = L2Gate(0.5, window=4, sample_every=3)
    for _ in range(4):
        assert gate.asks()
        gate.answered(False)
    assert gate.sampling
    assert [gate.asks() for _ in range(6)] == [False, False, True, False, False, True]
    assert gate.skipped == 4
    for hit in (True, True, False, True):  # 3 of 4 sampled reads hit: >= 0.5
        gate.answered(hit)
    assert not gate.sampling
    assert all(gate.asks() for _ in range(5))


def test_a_zero_ratio_gate_never_samples() -> None:
    gate = L2Gate(0.0, window=2)
    for _ in range(10):
        gate.answered(False)
    assert not gate.sampling
    assert gate.asks()


async def test_a_worker_whose_redis_reads_miss_stops_asking_and_still_loads(
    redis_client: Redis,
) -> None:
    """One worker, keys read once: after a window of L2 misses, most L1 misses neither read
    nor write Redis, the loader answers them, and a sampled miss still finds what another
    worker stored."""
    channel = new_channel()
    l2 = RedisCache(redis_client, prefix="test:", channel=channel, timeout=1.0, name="l2")
    a = TieredCache(MemoryCache(max_entries=1000), l2, l2_min_hit_ratio=0.5)
    b = tiered(redis_client, channel)
    window, every = a.l2_gate.window, a.l2_gate.sample_every

    for i in range(window):
        assert await a.get_or_load(f"k{i}", lambda: value(b"v"), ttl=60, tags=TAGS) == b"v"
    assert a.l2.stats.misses == window
    assert a.l2_gate.sampling

    for i in range(window, window + 2 * every):
        assert await a.get_or_load(f"k{i}", lambda: value(b"v"), ttl=60, tags=TAGS) == b"v"
    assert a.l2.stats.misses == window + 2  # only the samples asked Redis
    assert a.l2_gate.skipped == 2 * (every - 1)
    assert await redis_client.exists(f"test:e:k{window}") == 0  # a skipped miss wrote nothing

    await b.set("shared", b"from b", ttl=60, tags=TAGS)
    attempts = 1
    while await a.get("shared", tags=TAGS) is None:  # skipped: not asked
        attempts += 1
        assert attempts <= every
    assert a.l2.stats.hits == 1  # the sampled read found it in Redis
