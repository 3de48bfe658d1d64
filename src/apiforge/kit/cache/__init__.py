"""apiforge.kit.cache: an application cache of bytes with TTLs, tags and single-flight, in
process (`MemoryCache`), on Redis (`RedisCache`) or both (`TieredCache`), plus HTTP caching of
rendered JSON (ETag, 304, Cache-Control). Not for: HTTP caches in front of the app.

Using it (the lifespan builds the configured cache as `app_state(app).cache`)::

    cache = app_state(request.app).cache                  # CacheBackend | None (disabled)
    rendered = await cached_json(                         # RenderedJson(body, etag)
        cache, f"catalog:product:{product_id}", render_product,   # render: () -> bytes
        ttl=settings.cache.default_ttl_seconds, tags=["catalog", f"product:{product_id}"],
    )
    return rendered.response(if_none_match=request.headers.get("if-none-match"),
                             cache_control=public_max_age(30))  # or private_no_store()

    # after the write committed (after_commit), never before:
    await cache.invalidate_tags("catalog", f"product:{product_id}")

A key must always be read with the tags it was written with. `get_or_load` is the safe way to
fill the cache: concurrent misses in one process run the loader once, its exception reaches
every waiter and caches nothing, and a load that raced an invalidation is stored already stale.

Why versioned tags, not tag -> key sets: each tag has a counter (`{prefix}t:{tag}` in Redis,
a dict in memory) and an entry is stamped with its tags' counters when written; it is a miss
once any counter moved. Invalidation is one INCR per tag (one MULTI, O(1) whatever the number
of keys), nothing is scanned, no set grows with every write, and stale entries simply expire.
A read is one MGET (entry + tag counters), so a Redis hit costs one round trip and an L1 hit
none. Key sets would make every write an extra SADD per tag and every invalidation a Lua
script proportional to the keys, and the sets need their own expiry bookkeeping.

Across processes: `TieredCache.invalidate_tags` publishes the tags in the same MULTI; every
process's listener task bumps its L1 counters, typically within milliseconds. If its
subscription drops, an L1 serves stale entries for at most the L1 TTL (default 5 s, the
backstop), and it clears itself on resubscribing. Redis down or slow (every call bounded by
`settings.redis.socket_timeout`) is a miss, never an error: the loader's result is returned,
failures are counted in `stats.errors` and logged once per burst, and after a few failures in
a row a circuit breaker stops calling Redis for a cool-down while a background PING probes it
(kit.cache.breaker); an invalidation lost that way leaves Redis entries to their TTL, so keep
TTLs as short as the data's tolerance.
"""

from apiforge.kit.cache.factory import build_cache
from apiforge.kit.cache.http import (
    PRIVATE_NO_STORE,
    RenderedJson,
    cached_json,
    etag_for,
    if_none_match_matches,
    private_no_store,
    public_max_age,
)
from apiforge.kit.cache.memory import MemoryCache
from apiforge.kit.cache.protocol import CacheBackend, Loader
from apiforge.kit.cache.redis_cache import RedisCache
from apiforge.kit.cache.stats import CacheStats
from apiforge.kit.cache.tiered import TieredCache

__all__ = [
    "PRIVATE_NO_STORE",
    "CacheBackend",
    "CacheStats",
    "Loader",
    "MemoryCache",
    "RedisCache",
    "RenderedJson",
    "TieredCache",
    "build_cache",
    "cached_json",
    "etag_for",
    "if_none_match_matches",
    "private_no_store",
    "public_max_age",
]
