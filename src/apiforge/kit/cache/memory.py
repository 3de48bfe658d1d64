"""In-process LRU cache with per-entry TTL and versioned tags: the L1, or the whole cache of a
single-process deployment. Not for: sharing between processes (see `redis_cache.py`)."""

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apiforge.kit.cache.base import SnapshotCache

Versions = tuple[int, ...]


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float
    versions: Versions


class MemoryCache(SnapshotCache[Versions]):
    """At most `max_entries` entries, least recently used evicted first; every operation is
    O(1) in the number of entries (O(tags) per call).

    Tags are versioned: an entry remembers the versions of its tags when it was written and
    is a miss once any of them moved. Versions come from one counter, so they only grow; the
    table of versions is bounded (`max_tags`, the least recently invalidated tag dropped
    first) and a tag missing from it reads as the highest version ever dropped (`_floor`),
    which can cause spurious misses but never a stale hit."""

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_tags: int | None = None,
        name: str = "memory",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        super().__init__(name)
        self.max_entries = max_entries
        self._max_tags = max_tags or 4 * max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._versions: OrderedDict[str, int] = OrderedDict()
        self._counter = 0
        self._floor = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _current(self, tags: tuple[str, ...]) -> Versions:
        get, floor = self._versions.get, self._floor
        return tuple(get(tag, floor) for tag in tags)

    async def _lookup(self, key: str, tags: tuple[str, ...]) -> tuple[bytes | None, Versions]:
        versions = self._current(tags)
        entry = self._entries.get(key)
        if entry is None:
            return None, versions
        if entry.versions != versions or entry.expires_at <= self._clock():
            del self._entries[key]
            return None, versions
        self._entries.move_to_end(key)
        return entry.value, versions

    async def _store(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: tuple[str, ...],
        snapshot: Versions | None,
    ) -> None:
        if ttl <= 0:
            return
        versions = self._current(tags) if snapshot is None else snapshot
        self._entries[key] = _Entry(value, self._clock() + ttl, versions)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def invalidate_tags(self, *tags: str) -> None:
        self.invalidate_local(tags)

    def invalidate_local(self, tags: Sequence[str]) -> None:
        """Synchronous `invalidate_tags`, for the pub/sub listener."""
        for tag in tags:
            self._counter += 1
            self._versions[tag] = self._counter
            self._versions.move_to_end(tag)
        while len(self._versions) > self._max_tags:
            _, dropped = self._versions.popitem(last=False)
            self._floor = max(self._floor, dropped)

    def clear(self) -> None:
        """Forgets every entry and makes every snapshot taken so far stale, so a load that is
        in flight cannot store what it read before (used after missed invalidations)."""
        self._entries.clear()
        self._versions.clear()
        self._counter += 1
        self._floor = self._counter
