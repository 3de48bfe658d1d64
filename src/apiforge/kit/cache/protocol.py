"""The contract every cache backend honours (memory, Redis, tiered). Not for: HTTP concerns
(see `http.py`) or choosing a backend (see `factory.py`)."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from apiforge.kit.cache.stats import CacheStats

Loader = Callable[[], Awaitable[bytes]]


class CacheBackend(Protocol):
    """Bytes in, bytes out, with a TTL and tags.

    A key's `tags` are part of how it is read: pass the same tags to `get` and
    `get_or_load` as were given when it was written. `invalidate_tags` makes every entry
    written with any of those tags a miss from then on. No method raises because the
    backing store is down: that is a miss (counted in `stats.errors`)."""

    name: str
    stats: CacheStats

    async def get(self, key: str, *, tags: Sequence[str] = ()) -> bytes | None: ...

    async def set(
        self, key: str, value: bytes, *, ttl: float, tags: Sequence[str] = ()
    ) -> None: ...

    async def get_or_load(
        self, key: str, loader: Loader, *, ttl: float, tags: Sequence[str] = ()
    ) -> bytes:
        """The cached value, or `loader()`'s result (then cached for `ttl` seconds).
        Concurrent misses for one key in one process run the loader once; its exception
        reaches every waiter and nothing is cached."""
        ...

    async def delete(self, key: str) -> None: ...

    async def invalidate_tags(self, *tags: str) -> None: ...

    async def start(self) -> None:
        """Starts background work (the tiered cache's invalidation listener)."""
        ...

    async def aclose(self) -> None: ...
