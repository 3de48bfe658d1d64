"""RedisCache specifics: namespaced keys, one round trip per read, and Redis down or slow
answered as misses (loader results returned, errors counted, logged once per burst)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from redis.asyncio import Redis

from apiforge.kit.cache import MemoryCache, RedisCache, TieredCache
from apiforge.kit.cache.breaker import BreakerState
from tests.faults.proxy import PASS, RESET, FaultProxy
from tests.kit.cache.test_contract import until


@contextmanager
def cache_log() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("apiforge.cache")
    handler = Collect()
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def count_commands(client: Redis, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    execute: Any = client.execute_command

    async def spy(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", spy)
    return sent


async def test_keys_are_namespaced_under_the_prefix(redis_client: Redis) -> None:
    cache = RedisCache(redis_client, prefix="app1:")
    await cache.set("k", b"v", ttl=10, tags=["t"])
    await cache.invalidate_tags("t")
    assert sorted(await redis_client.keys("*")) == [b"app1:e:k", b"app1:t:t"]
    assert 9000 < await redis_client.pttl("app1:e:k") <= 10_000
    other = RedisCache(redis_client, prefix="app2:")
    assert await other.get("k") is None


async def test_a_read_is_one_round_trip(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = RedisCache(redis_client)
    await cache.set("k", b"v", ttl=10, tags=["a", "b", "c"])
    sent = count_commands(redis_client, monkeypatch)
    assert await cache.get("k", tags=["a", "b", "c"]) == b"v"
    assert await cache.get("missing", tags=["a"]) is None
    assert sent == ["MGET", "MGET"]


async def test_a_hit_on_l1_costs_no_round_trip(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TieredCache(MemoryCache(), RedisCache(redis_client))
    await cache.set("k", b"v", ttl=10, tags=["t"])
    sent = count_commands(redis_client, monkeypatch)
    assert await cache.get("k", tags=["t"]) == b"v"
    assert sent == []


async def test_a_corrupt_entry_is_a_miss(redis_client: Redis) -> None:
    cache = RedisCache(redis_client, prefix="p:")
    for raw in (b"no newline", b"x y\nbody", b"\nbody"):
        await redis_client.set("p:e:k", raw)
        assert await cache.get("k") is None


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    """A client pointed at a port where nothing listens."""
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2, socket_connect_timeout=0.2)
    yield client
    await client.aclose()


async def test_redis_down_is_a_miss_counted_and_logged_once(dead_redis: Redis) -> None:
    cache = RedisCache(dead_redis, timeout=0.5, failures=1, cooldown=0.05)
    loads = 0

    async def loader() -> bytes:
        nonlocal loads
        loads += 1
        return b"from the database"

    try:
        with cache_log() as records:
            for _ in range(5):
                value = await cache.get_or_load("k", loader, ttl=10, tags=["t"])
                assert value == b"from the database"
                await cache.set("k", b"v", ttl=10)
                await cache.delete("k")
                await cache.invalidate_tags("t")
                await asyncio.sleep(0.06)  # past the cool-down: Redis is probed again
    finally:
        await cache.aclose()
    assert loads == 5
    assert cache.stats.errors >= 5
    assert cache.stats.hits == 0
    assert cache.breaker.openings >= 2  # the probes failed, each opening it again
    assert len(records) == 1
    assert records[0].getMessage().startswith("cache redis unavailable after 1 failed calls")


async def test_tiered_with_redis_down_still_caches_in_process(dead_redis: Redis) -> None:
    cache = TieredCache(MemoryCache(), RedisCache(dead_redis, timeout=0.5, channel="dead"))
    await cache.start()  # the listener cannot subscribe; startup is not blocked past timeout
    try:
        assert await cache.get_or_load("k", _const(b"v"), ttl=10) == b"v"
        assert await cache.get_or_load("k", _const(b"other"), ttl=10) == b"v"
        assert cache.l2.stats.errors >= 1
    finally:
        await cache.aclose()


async def test_a_redis_that_never_answers_is_cut_off_by_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # accept, read, never answer
        finally:
            writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5)
    cache = RedisCache(client, timeout=0.2)
    try:
        started = time.monotonic()
        assert await cache.get_or_load("k", _const(b"v"), ttl=10) == b"v"
        assert time.monotonic() - started < 1.5
        assert cache.stats.errors >= 1
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_recovery_is_logged_once(redis_url: str, redis_client: Redis) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as proxy:
        client = Redis.from_url(redis_url.replace(f":{port}/", f":{proxy.port}/"))
        cache = RedisCache(client, timeout=0.5, failures=1, cooldown=0.01)
        try:
            with cache_log() as records:
                proxy.set(RESET)
                assert await cache.get("k") is None
                proxy.set(PASS)  # Redis is back
                await asyncio.sleep(0.02)
                assert await cache.get("k") is None  # skipped: it starts the probe
                await until(lambda: cache.breaker.state is BreakerState.CLOSED)
                await cache.set("k", b"v", ttl=10)
                assert await cache.get("k") == b"v"
        finally:
            await cache.aclose()
            await client.aclose()
    assert [r.getMessage().split(" after")[0] for r in records] == [
        "cache redis unavailable",
        "cache redis available again",
    ]


def _const(value: bytes) -> Any:
    async def load() -> bytes:
        return value

    return load
