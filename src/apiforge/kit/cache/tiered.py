"""Two levels: a short-lived in-process L1 in front of the shared Redis L2, kept coherent
across processes by pub/sub. Not for: single-process deployments (a MemoryCache suffices)."""

from dataclasses import dataclass

from apiforge.kit.cache.base import SnapshotCache
from apiforge.kit.cache.listener import InvalidationListener
from apiforge.kit.cache.memory import MemoryCache, Versions
from apiforge.kit.cache.redis_cache import RedisCache, RedisRead

_NOTHING_READ = RedisRead(None)


@dataclass(frozen=True, slots=True)
class TieredRead:
    local: Versions
    remote: RedisRead


class TieredCache(SnapshotCache[TieredRead]):
    """Reads L1 (no round trip), then L2 (one), filling L1 on an L2 hit for at most
    `l1_ttl` seconds and never past the L2 entry's own expiry; writes both.

    `invalidate_tags` bumps the local versions, then INCRs the tags and publishes them in
    one MULTI; every other process's listener bumps its L1 on receipt (typically within
    milliseconds). If a listener is disconnected, its L1 may serve stale entries for at most
    `l1_ttl` seconds, and it clears its L1 when it resubscribes. `delete` is local L1 + L2:
    other processes' L1s keep the key until their TTL; use tags for cross-process effect."""

    def __init__(
        self,
        l1: MemoryCache,
        l2: RedisCache,
        *,
        l1_ttl: float = 5.0,
        name: str = "tiered",
        listener_poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(name)
        self.l1 = l1
        self.l2 = l2
        self.l1_ttl = l1_ttl
        self.listener = (
            InvalidationListener(
                l2.redis, l2.channel, l1, origin=l2.origin, poll_seconds=listener_poll_seconds
            )
            if l2.channel is not None
            else None
        )

    async def _lookup(self, key: str, tags: tuple[str, ...]) -> tuple[bytes | None, TieredRead]:
        value, local = await self.l1.lookup(key, tags)
        if value is not None:
            return value, TieredRead(local, _NOTHING_READ)
        value, remote = await self.l2.lookup(key, tags)
        if value is not None:
            ttl = min(self.l1_ttl, remote.remaining_seconds())
            # Stamped with the L1 versions seen *before* the L2 read: an invalidation heard
            # in between makes this fill stale at once.
            await self.l1.store(key, value, ttl=ttl, tags=tags, snapshot=local)
        return value, TieredRead(local, remote)

    async def _store(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: tuple[str, ...],
        snapshot: TieredRead | None,
    ) -> None:
        local = None if snapshot is None else snapshot.local
        remote = None if snapshot is None else snapshot.remote
        await self.l1.store(key, value, ttl=min(ttl, self.l1_ttl), tags=tags, snapshot=local)
        await self.l2.store(key, value, ttl=ttl, tags=tags, snapshot=remote)

    async def delete(self, key: str) -> None:
        await self.l1.delete(key)
        await self.l2.delete(key)

    async def invalidate_tags(self, *tags: str) -> None:
        self.l1.invalidate_local(tags)
        await self.l2.invalidate_tags(*tags)

    async def start(self) -> None:
        if self.listener is not None:
            await self.listener.start(ready_timeout=self.l2.timeout)

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        await self.l2.aclose()
