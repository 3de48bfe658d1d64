"""When each API key was last used, written off the request path: a request only notes the
key in memory; a background task hands the batch to the service every few seconds, each key
at most once a minute (across workers too, when Redis is there to agree on it). Not for:
authenticating keys (kit.identity.api_keys)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from apiforge.kit.background import background_task
from apiforge.kit.cache.redis_cache import redis_failures
from apiforge.kit.db.base import utcnow

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("apiforge.identity")
Recorder = Callable[[Mapping[str, datetime]], Awaitable[None]]


class ApiKeyUsage:
    """`mark(key_id)` on each keyed request (a dict lookup); `flush()` writes what is due.
    `every_seconds` is the most a key is written (per key, per cluster with Redis). With
    `background` False the app-long task writes nothing, and only explicit `flush()` calls do
    (the test plugin's choice: a write from the background would share a test's connection)."""

    def __init__(
        self,
        record: Recorder,
        *,
        redis: "Redis | None" = None,
        key_prefix: str = "apiforge:",
        every_seconds: float = 60.0,
        flush_seconds: float = 5.0,
    ) -> None:
        self._record = record
        self._redis = redis
        self._key_prefix = key_prefix
        self._every = every_seconds
        self._flush_seconds = flush_seconds
        self.background = True
        self._last_marked: dict[str, float] = {}
        self._pending: dict[str, datetime] = {}

    def mark(self, key_id: str) -> None:
        now = time.monotonic()
        last = self._last_marked.get(key_id)
        if last is not None and now - last < self._every:
            return
        self._last_marked[key_id] = now
        self._pending[key_id] = utcnow()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        due = {key: at for key, at in pending.items() if await self._claim(key)}
        if not due:
            return
        try:
            await self._record(due)
        except Exception:  # a lost last-used stamp must never stop the task
            logger.warning("could not record the use of %d API key(s)", len(due), exc_info=True)

    async def _claim(self, key_id: str) -> bool:
        """True when no other worker wrote this key's use within the interval."""
        if self._redis is None:
            return True
        try:
            claimed = await self._redis.set(
                f"{self._key_prefix}api-key-used:{key_id}", b"1", nx=True, ex=int(self._every)
            )
        except redis_failures():
            return True  # Redis down: write it (at most once a minute from this worker)
        return bool(claimed)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with background_task(self._loop(), name="api-key-usage"):
            try:
                yield
            finally:
                await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            if self.background:
                await self.flush()
