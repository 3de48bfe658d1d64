"""What every backend shares: hit/miss counting and single-flight `get_or_load`. A backend
supplies `_lookup` (value plus a snapshot of its tags' versions) and `_store`. Not for:
storage itself."""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, TypeVar

from apiforge.kit.cache.protocol import Loader
from apiforge.kit.cache.stats import CacheStats

Snapshot = TypeVar("Snapshot")


class _LeaderCancelledError(Exception):
    """The task running the loader was cancelled: waiters retry instead of failing."""


class SnapshotCache(ABC, Generic[Snapshot]):
    """Base of the backends. The snapshot taken when a read misses is what the loaded value
    is written with: if the tags were invalidated while the loader ran, the entry is written
    already stale and the next read misses, so a slow load can never resurrect old data."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stats = CacheStats(name)
        self._flights: dict[str, asyncio.Future[bytes]] = {}

    @abstractmethod
    async def _lookup(self, key: str, tags: tuple[str, ...]) -> tuple[bytes | None, Snapshot]:
        """The value (None on a miss or an error) and the tag versions seen."""

    @abstractmethod
    async def _store(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: tuple[str, ...],
        snapshot: Snapshot | None,
    ) -> None:
        """Writes `value` stamped with `snapshot` (None: the tags' current versions)."""

    async def lookup(self, key: str, tags: Sequence[str] = ()) -> tuple[bytes | None, Snapshot]:
        value, snapshot = await self._lookup(key, tuple(tags))
        if value is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return value, snapshot

    async def get(self, key: str, *, tags: Sequence[str] = ()) -> bytes | None:
        value, _ = await self.lookup(key, tags)
        return value

    async def set(self, key: str, value: bytes, *, ttl: float, tags: Sequence[str] = ()) -> None:
        """Writes with the tags' current versions. Prefer `get_or_load`: a value computed before
        an invalidation and `set` after it is served until its TTL."""
        await self._store(key, value, ttl, tuple(tags), None)

    async def store(
        self,
        key: str,
        value: bytes,
        *,
        ttl: float,
        tags: Sequence[str],
        snapshot: Snapshot | None,
    ) -> None:
        """`set` stamped with a snapshot from an earlier `lookup` (how layers compose)."""
        await self._store(key, value, ttl, tuple(tags), snapshot)

    async def get_or_load(
        self, key: str, loader: Loader, *, ttl: float, tags: Sequence[str] = ()
    ) -> bytes:
        tag_tuple = tuple(tags)
        while True:
            flight = self._flights.get(key)
            if flight is None:
                value, snapshot = await self.lookup(key, tag_tuple)
                if value is not None:
                    return value
                # Another task may have started loading while this one awaited the lookup.
                flight = self._flights.get(key)
                if flight is None:
                    return await self._lead(key, loader, ttl, tag_tuple, snapshot)
            else:
                self.stats.misses += 1
            try:
                # shield: a waiter being cancelled must not cancel everybody's load.
                return await asyncio.shield(flight)
            except _LeaderCancelledError:
                continue

    async def _lead(
        self, key: str, loader: Loader, ttl: float, tags: tuple[str, ...], snapshot: Snapshot
    ) -> bytes:
        flight: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            self.stats.loads += 1
            try:
                value = await loader()
            except asyncio.CancelledError:
                self._fail(flight, _LeaderCancelledError())
                raise
            except BaseException as exc:
                self._fail(flight, exc)
                raise
            # Waiters get the value now; the flight stays registered until the write is done so
            # that late arrivals join it instead of missing again.
            flight.set_result(value)
            await self._store(key, value, ttl, tags, snapshot)
            return value
        finally:
            del self._flights[key]

    @staticmethod
    def _fail(flight: "asyncio.Future[bytes]", exc: BaseException) -> None:
        flight.set_exception(exc)
        flight.exception()  # marks it retrieved: with no waiter, asyncio would log it at GC

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
