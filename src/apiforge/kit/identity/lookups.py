"""Identity lookups kept in the app's cache, so a request checks a token's generation, an API
key or a membership without a database query, and a change made anywhere reaches every worker
at once (tag invalidation over Redis pub/sub; the L1 TTL bounds it if a message is lost). Not
for: what is looked up (kit.identity.store)."""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from apiforge.kit.cache import CacheBackend

_NOTHING = b"null"
# Carried by every lookup, so that all of them can be dropped at once.
ALL_LOOKUPS = "identity"


class Lookups:
    """`get(key, tag, load)`: the cached JSON value of `load()` (None included, so an unknown
    key costs one query per TTL, not one per request); `forget(tag)` drops it everywhere."""

    def __init__(self, cache: CacheBackend, *, ttl: float) -> None:
        self.cache = cache
        self.ttl = ttl

    async def get(self, key: str, tag: str, load: Callable[[], Awaitable[Any]]) -> Any:
        async def loader() -> bytes:
            value = await load()
            return _NOTHING if value is None else orjson.dumps(value)

        raw = await self.cache.get_or_load(key, loader, ttl=self.ttl, tags=(tag, ALL_LOOKUPS))
        return orjson.loads(raw)

    async def forget(self, *tags: str) -> None:
        await self.cache.invalidate_tags(*tags)

    async def forget_all(self) -> None:
        await self.cache.invalidate_tags(ALL_LOOKUPS)
