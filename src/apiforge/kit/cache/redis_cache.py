"""The shared cache on Redis (redis.asyncio): entries stamped with versioned tags, one round
trip per read, failures answered as misses, a circuit breaker in front. Not for: in-process
caching (see `memory.py`)."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

import orjson

from apiforge.kit.cache.base import SnapshotCache
from apiforge.kit.cache.breaker import cache_breaker

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")
Failures = tuple[type[BaseException], ...]
_FAILED: Final = object()

# Writes an entry stamped with its tags' current versions, read and written atomically.
# KEYS[1] the entry, KEYS[2..] the tag versions; ARGV: expiry (epoch ms), TTL (ms), value.
_SET_WITH_CURRENT_VERSIONS = """
local versions = {}
for i = 2, #KEYS do
  versions[i - 1] = redis.call('GET', KEYS[i]) or '0'
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. table.concat(versions, ',') .. '\\n' .. ARGV[3],
           'PX', ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class RedisRead:
    """What a read saw: the tags' versions (None when Redis failed: then nothing is written)
    and, on a hit, the entry's expiry in epoch milliseconds."""

    versions: tuple[int, ...] | None
    expires_at_ms: int = 0

    def remaining_seconds(self) -> float:
        return self.expires_at_ms / 1000 - time.time()


_UNAVAILABLE: Final = RedisRead(None)


def redis_failures() -> Failures:
    """What a Redis call raises when Redis is down or slow. Imported late: redis-py is an
    optional extra, and this package must import without it."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


def _parse_header(header: bytes) -> tuple[int, tuple[int, ...]] | None:
    """(expiry ms, tag versions) from `b"<expiry ms> <v1>,<v2>"`; None if it is not one."""
    expiry, _, stamp = header.partition(b" ")
    try:
        return int(expiry), tuple(int(v) for v in stamp.split(b",")) if stamp else ()
    except ValueError:
        return None


class RedisCache(SnapshotCache[RedisRead]):
    """Entries live at `{prefix}e:{key}` as `b"<expiry ms> <v1>,<v2>\\n" + value`, tag versions
    at `{prefix}t:{tag}` (plain counters, no expiry: one small integer per tag ever
    invalidated). A read is one MGET of the entry and its tags' versions; an invalidation is
    one MULTI of INCRs, plus a PUBLISH on `channel` when one is given (the tiered cache's L1s
    listen there). Every call is bounded by `timeout`; a failed call is a miss (or a skipped
    write), counted in `stats.errors`. After `failures` failed calls in a row the `breaker`
    opens: Redis is not called for `cooldown` seconds (each skipped call counted in
    `stats.errors` too), then a background PING decides whether it is back (kit.cache.breaker).
    """

    def __init__(
        self,
        redis: "Redis",
        *,
        prefix: str = "apiforge:cache:",
        channel: str | None = None,
        timeout: float = 0.5,
        failures: int = 3,
        cooldown: float = 2.0,
        name: str = "redis",
    ) -> None:
        super().__init__(name)
        self.redis = redis
        self.prefix = prefix
        self.channel = channel
        self.origin = uuid.uuid4().hex  # lets a process ignore its own invalidation messages
        self.timeout = timeout
        self.breaker = cache_breaker(name, self._ping, failures=failures, cooldown=cooldown)
        self._failures = redis_failures()
        self._set_script = redis.register_script(_SET_WITH_CURRENT_VERSIONS)

    def _entry_key(self, key: str) -> str:
        return f"{self.prefix}e:{key}"

    def _tag_keys(self, tags: tuple[str, ...]) -> list[str]:
        return [f"{self.prefix}t:{tag}" for tag in tags]

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T | object:
        """The operation's result, or `_FAILED` (never an exception) when Redis is down."""
        if not self.breaker.allows():
            self.stats.errors += 1
            return _FAILED
        try:
            async with asyncio.timeout(self.timeout):
                result = await operation()
        except self._failures as exc:
            self.stats.errors += 1
            self.breaker.failed(exc)
            return _FAILED
        self.breaker.succeeded()
        return result

    async def _ping(self) -> bool:
        """The breaker's probe: whether Redis answers a PING within `timeout`."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.redis.ping()
        except self._failures:
            return False
        return True

    async def _lookup(self, key: str, tags: tuple[str, ...]) -> tuple[bytes | None, RedisRead]:
        keys = [self._entry_key(key), *self._tag_keys(tags)]
        found = await self._call(lambda: self.redis.mget(keys))
        if found is _FAILED or not isinstance(found, list):
            return None, _UNAVAILABLE
        raw: bytes | None = found[0]
        versions = tuple(int(v) if v is not None else 0 for v in found[1:])
        if raw is None:
            return None, RedisRead(versions)
        newline = raw.find(b"\n")
        header = _parse_header(raw[:newline]) if newline > 0 else None
        if header is None or header[1] != versions:
            return None, RedisRead(versions)
        return raw[newline + 1 :], RedisRead(versions, header[0])

    async def _store(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: tuple[str, ...],
        snapshot: RedisRead | None,
    ) -> None:
        ttl_ms = int(ttl * 1000)
        if ttl_ms <= 0 or (snapshot is not None and snapshot.versions is None):
            return  # unknown versions: writing could resurrect invalidated data
        expires_at_ms = int(time.time() * 1000) + ttl_ms
        entry_key = self._entry_key(key)
        if snapshot is None:
            keys = [entry_key, *self._tag_keys(tags)]
            await self._call(lambda: self._set_script(keys, [expires_at_ms, ttl_ms, value]))
            return
        stamp = ",".join(str(v) for v in snapshot.versions or ())
        framed = f"{expires_at_ms} {stamp}\n".encode() + value
        await self._call(lambda: self.redis.set(entry_key, framed, px=ttl_ms))

    async def delete(self, key: str) -> None:
        await self._call(lambda: self.redis.delete(self._entry_key(key)))

    async def invalidate_tags(self, *tags: str) -> None:
        """One MULTI: INCR per tag, then PUBLISH. If Redis is down the bump is lost (logged
        and counted): entries written before it are served until their TTL."""
        if not tags:
            return

        async def bump() -> list[Any]:
            pipe = self.redis.pipeline(transaction=True)
            for tag_key in self._tag_keys(tags):
                pipe.incr(tag_key)
            if self.channel is not None:
                message = orjson.dumps({"origin": self.origin, "tags": list(tags)})
                pipe.publish(self.channel, message)
            result: list[Any] = await pipe.execute()
            return result

        await self._call(bump)

    async def aclose(self) -> None:
        await self.breaker.aclose()
