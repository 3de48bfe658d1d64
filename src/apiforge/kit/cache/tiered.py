"""Two levels: a short-lived in-process L1 in front of the shared Redis L2, kept coherent
across processes by pub/sub. Not for: single-process deployments (a MemoryCache suffices)."""

from collections import OrderedDict
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


class L2Gate:
    """Whether an L1 miss is worth an L2 round trip, judged by what L2 reads have been
    answering. Every `window` L2 reads the hit ratio is checked: below `min_hit_ratio`, only
    one L1 miss in `sample_every` asks L2 (and only those write to it, a skipped read leaving
    the versions unknown) until a window of those samples shows the ratio back above it.

    Why: a miss that asks L2 pays a read and a write (in the shop's profile under uniform ids
    over the whole catalog, Redis calls were ~30 % of the worker's busy time against ~14 % for
    the database load itself), and L2 only answers what another process stored, or what this
    one stored and its L1 already dropped. One worker, or keys read once per TTL, never make
    that pay; several workers sharing a hot set may, and a window of sampled reads that hit
    turns L2 back on (how soon, with sampled writes on every worker, is not measured yet:
    TODO(issue 12)). Skipping L2 is always safe: the value is loaded from the source, as with
    no cache at all."""

    def __init__(self, min_hit_ratio: float, *, window: int = 100, sample_every: int = 16) -> None:
        self.min_hit_ratio = min_hit_ratio
        self.window = window
        self.sample_every = sample_every
        self.sampling = False
        self.skipped = 0  # L1 misses that did not ask L2, for the metrics and tests
        self._reads = self._hits = self._since_sample = 0

    def asks(self) -> bool:
        """Whether this L1 miss reads L2 (counted as skipped when not)."""
        if not self.sampling:
            return True
        self._since_sample += 1
        if self._since_sample >= self.sample_every:
            self._since_sample = 0
            return True
        self.skipped += 1
        return False

    def answered(self, hit: bool) -> None:
        """One L2 read that reached Redis, and whether it hit."""
        self._reads += 1
        self._hits += hit
        if self._reads >= self.window:
            self.sampling = self._hits < self.min_hit_ratio * self._reads
            self._reads = self._hits = 0


class TieredCache(SnapshotCache[TieredRead]):
    """Reads L1 (no round trip), then L2 (one), filling L1 on an L2 hit for at most
    `l1_ttl` seconds and never past the L2 entry's own expiry; writes both.

    `invalidate_tags` bumps the local versions, then INCRs the tags and publishes them in
    one MULTI; every other process's listener bumps its L1 on receipt (typically within
    milliseconds). If a listener is disconnected, its L1 may serve stale entries for at most
    `l1_ttl` seconds, and it clears its L1 when it resubscribes. `delete` is local L1 + L2:
    other processes' L1s keep the key until their TTL; use tags for cross-process effect.

    `l2_after_misses`: a key goes to L2 (read and written) only from its n-th miss in this
    process on; earlier misses load into L1 alone. With 2, a key read once (the long tail of
    a catalog) costs what no cache costs, instead of an L2 read and an L2 write around the
    load; a key read again pays them once and is then shared. Misses are counted over the
    last `4 x l1.max_entries` keys missed. 1 (the default) shares every key from its first
    miss.

    `l2_min_hit_ratio`: below this share of L2 reads answering, L2 is only sampled (`L2Gate`);
    0 asks L2 on every L1 miss."""

    def __init__(
        self,
        l1: MemoryCache,
        l2: RedisCache,
        *,
        l1_ttl: float = 5.0,
        name: str = "tiered",
        listener_poll_seconds: float = 1.0,
        l2_after_misses: int = 1,
        l2_min_hit_ratio: float = 0.0,
    ) -> None:
        if l2_after_misses < 1:
            raise ValueError("l2_after_misses must be at least 1")
        super().__init__(name)
        self.l1 = l1
        self.l2 = l2
        self.l1_ttl = l1_ttl
        self.l2_after_misses = l2_after_misses
        self.l2_gate = L2Gate(l2_min_hit_ratio)
        self._misses: OrderedDict[str, int] = OrderedDict()
        self._max_tracked = 4 * l1.max_entries
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
        if not self._shared(key) or not self.l2_gate.asks():
            # Nothing read from L2, so nothing is written there either (its versions unknown).
            return None, TieredRead(local, _NOTHING_READ)
        value, remote = await self.l2.lookup(key, tags)
        if remote.versions is not None:
            self.l2_gate.answered(value is not None)
        if value is not None:
            ttl = min(self.l1_ttl, remote.remaining_seconds())
            # Stamped with the L1 versions seen *before* the L2 read: an invalidation heard
            # in between makes this fill stale at once.
            await self.l1.store(key, value, ttl=ttl, tags=tags, snapshot=local)
        return value, TieredRead(local, remote)

    def _shared(self, key: str) -> bool:
        """Whether this miss of `key` goes to L2 (`l2_after_misses`)."""
        if self.l2_after_misses == 1:
            return True
        misses = self._misses.pop(key, 0) + 1
        self._misses[key] = misses
        if len(self._misses) > self._max_tracked:
            self._misses.popitem(last=False)
        return misses >= self.l2_after_misses

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
