"""MemoryCache specifics: the LRU bound, the bounded tag table, clear()."""

from apiforge.kit.cache import MemoryCache


async def test_holds_at_most_max_entries_evicting_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=3)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl=10)
    assert await cache.get("a") == b"a"  # now b is the least recently used
    await cache.set("d", b"d", ttl=10)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]
    for i in range(1000):
        await cache.set(f"k{i}", b"v", ttl=10)
    assert len(cache) == 3


async def test_a_zero_ttl_stores_nothing() -> None:
    cache = MemoryCache()
    await cache.set("k", b"v", ttl=0)
    assert len(cache) == 0


async def test_the_tag_table_is_bounded_and_dropping_a_tag_never_serves_stale() -> None:
    cache = MemoryCache(max_entries=10, max_tags=2)
    await cache.set("k", b"v", ttl=10, tags=["x"])
    await cache.invalidate_tags("x")  # k is stale from here on
    await cache.invalidate_tags("y", "z")  # x is dropped from the table
    assert len(cache._versions) == 2
    assert await cache.get("k", tags=["x"]) is None
    await cache.set("k", b"fresh", ttl=10, tags=["x"])
    assert await cache.get("k", tags=["x"]) == b"fresh"


async def test_clear_forgets_entries_and_stales_snapshots_in_flight() -> None:
    cache = MemoryCache()
    await cache.set("k", b"v", ttl=10, tags=["t"])
    _, snapshot = await cache.lookup("other", ["t"])
    cache.clear()
    assert await cache.get("k", tags=["t"]) is None
    await cache.store("other", b"read before clear", ttl=10, tags=["t"], snapshot=snapshot)
    assert await cache.get("other", tags=["t"]) is None
