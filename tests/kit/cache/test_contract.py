"""The CacheBackend contract, run over every backend: get/set/TTL/delete, tags, single-flight
and loader errors."""

import asyncio
from collections.abc import Callable

import pytest

from apiforge.kit.cache import CacheBackend


class Loads:
    """A loader that counts its calls and can be held at a gate to make misses overlap."""

    def __init__(self, value: bytes = b"loaded", *, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


async def until(condition: Callable[[], bool]) -> None:
    """Waits (bounded) for the tasks under test to reach a point, without fixed sleeps that
    a loaded machine would outrun."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110  # the conditions are counters, not events
            await asyncio.sleep(0.001)


async def test_miss_then_set_then_hit(cache: CacheBackend) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"\x00value\n", ttl=10)
    assert await cache.get("k") == b"\x00value\n"
    assert cache.stats.hits == 1
    assert cache.stats.misses == 1


async def test_entries_expire(cache: CacheBackend) -> None:
    await cache.set("short", b"v", ttl=0.05)
    await cache.set("long", b"v", ttl=10)
    await asyncio.sleep(0.12)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"v"


async def test_delete(cache: CacheBackend) -> None:
    await cache.set("k", b"v", ttl=10)
    await cache.delete("k")
    await cache.delete("never-there")
    assert await cache.get("k") is None


async def test_invalidating_a_tag_misses_its_entries_only(cache: CacheBackend) -> None:
    await cache.set("p1", b"1", ttl=10, tags=["catalog", "product:1"])
    await cache.set("p2", b"2", ttl=10, tags=["catalog", "product:2"])
    await cache.set("u", b"u", ttl=10, tags=["users"])
    await cache.invalidate_tags("product:1")
    assert await cache.get("p1", tags=["catalog", "product:1"]) is None
    assert await cache.get("p2", tags=["catalog", "product:2"]) == b"2"
    await cache.invalidate_tags("catalog", "nobody-uses-this")
    assert await cache.get("p2", tags=["catalog", "product:2"]) is None
    assert await cache.get("u", tags=["users"]) == b"u"
    await cache.set("p2", b"2 again", ttl=10, tags=["catalog", "product:2"])
    assert await cache.get("p2", tags=["catalog", "product:2"]) == b"2 again"


async def test_get_or_load_loads_once_then_hits(cache: CacheBackend) -> None:
    loader = Loads(b"body")
    assert await cache.get_or_load("k", loader, ttl=10, tags=["t"]) == b"body"
    assert await cache.get_or_load("k", loader, ttl=10, tags=["t"]) == b"body"
    assert loader.calls == 1
    await cache.invalidate_tags("t")
    assert await cache.get_or_load("k", loader, ttl=10, tags=["t"]) == b"body"
    assert loader.calls == 2


async def test_concurrent_misses_share_one_load(cache: CacheBackend) -> None:
    loader = Loads(b"shared")
    loader.gate.clear()
    calls = [asyncio.create_task(cache.get_or_load("k", loader, ttl=10)) for _ in range(20)]
    await until(lambda: cache.stats.misses == 20)  # every caller now waits on the one load
    loader.gate.set()
    assert await asyncio.gather(*calls) == [b"shared"] * 20
    assert loader.calls == 1
    assert cache.stats.loads == 1


async def test_a_loader_error_reaches_every_waiter_and_caches_nothing(
    cache: CacheBackend,
) -> None:
    failing = Loads(error=RuntimeError("database down"))
    failing.gate.clear()
    calls = [asyncio.create_task(cache.get_or_load("k", failing, ttl=10)) for _ in range(5)]
    await until(lambda: cache.stats.misses == 5)
    failing.gate.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [str(r) for r in results] == ["database down"] * 5
    assert all(isinstance(r, RuntimeError) for r in results)
    assert failing.calls == 1
    assert await cache.get("k") is None
    assert await cache.get_or_load("k", Loads(b"recovered"), ttl=10) == b"recovered"


async def test_a_load_that_raced_an_invalidation_is_not_served(cache: CacheBackend) -> None:
    """The loader read the old data, the write committed and invalidated meanwhile: what the
    loader returns goes to its caller but must not be a hit afterwards."""
    old = Loads(b"old")
    old.gate.clear()
    call = asyncio.create_task(cache.get_or_load("k", old, ttl=10, tags=["t"]))
    await until(lambda: old.calls == 1)
    await cache.invalidate_tags("t")
    old.gate.set()
    assert await call == b"old"
    assert await cache.get("k", tags=["t"]) is None


async def test_a_cancelled_leader_lets_a_waiter_load(cache: CacheBackend) -> None:
    slow = Loads(b"never")
    slow.gate.clear()
    second = Loads(b"second")
    leader = asyncio.create_task(cache.get_or_load("k", slow, ttl=10))
    await until(lambda: slow.calls == 1)
    waiter = asyncio.create_task(cache.get_or_load("k", second, ttl=10))
    await until(lambda: cache.stats.misses == 2)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await waiter == b"second"
    assert second.calls == 1
    assert await cache.get("k") == b"second"


async def test_a_cancelled_waiter_does_not_cancel_the_load(cache: CacheBackend) -> None:
    loader = Loads(b"v")
    loader.gate.clear()
    leader = asyncio.create_task(cache.get_or_load("k", loader, ttl=10))
    await until(lambda: loader.calls == 1)
    waiter = asyncio.create_task(cache.get_or_load("k", loader, ttl=10))
    await until(lambda: cache.stats.misses == 2)
    waiter.cancel()
    loader.gate.set()
    assert await leader == b"v"
    assert waiter.cancelled()
    assert loader.calls == 1
