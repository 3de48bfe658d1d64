"""Keeps a process's L1 in step with invalidations made by other processes, through Redis
pub/sub. Not for: the invalidation itself (RedisCache publishes it in the same MULTI)."""

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import orjson

from apiforge.kit.cache.memory import MemoryCache
from apiforge.kit.cache.redis_cache import redis_failures

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("apiforge.cache")


class InvalidationListener:
    """A task that applies `{"origin", "tags"}` messages from `channel` to `l1`, skipping its
    own process's (`origin`). When the subscription drops it resubscribes with backoff and,
    since messages sent meanwhile are lost, clears the L1 once subscribed again; until then
    the L1 TTL bounds how stale a read can be."""

    def __init__(
        self,
        redis: "Redis",
        channel: str,
        l1: MemoryCache,
        *,
        origin: str,
        poll_seconds: float = 1.0,
        # Short: a Redis back from an outage is heard from within about a second.
        max_backoff: float = 1.0,
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.l1 = l1
        self.origin = origin
        self.poll_seconds = poll_seconds
        self.max_backoff = max_backoff
        self.subscribed = asyncio.Event()
        self.subscriptions = 0  # successful (re)subscriptions, for tests and metrics
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, ready_timeout: float = 1.0) -> None:
        """Starts the task and waits (at most `ready_timeout`) for the subscription, so a
        process serves no L1 hit it could not hear invalidated. Redis down does not block."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name=f"cache-listener:{self.channel}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ready_timeout):
                await self.subscribed.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        backoff, failing, failures = 0.1, False, redis_failures()
        while True:
            try:
                await self._listen()
            except failures as exc:
                if self.subscribed.is_set():
                    backoff, failing = 0.1, False  # it had worked: a new burst, retry soon
                if not failing:
                    logger.warning(
                        "cache invalidation listener lost %s (L1 TTL bounds staleness): %s: %s",
                        self.channel,
                        type(exc).__name__,
                        exc,
                    )
                failing = True
            self.subscribed.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            while True:
                message = await pubsub.get_message(timeout=self.poll_seconds)
                if message is not None:
                    self._handle(message)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    def _handle(self, message: dict[str, Any]) -> None:
        if message["type"] == "subscribe":
            if self.subscriptions:
                self.l1.clear()  # invalidations sent while unsubscribed were lost
            self.subscriptions += 1
            self.subscribed.set()
            return
        if message["type"] != "message":
            return
        try:
            payload = orjson.loads(message["data"])
            origin, tags = payload["origin"], payload["tags"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            logger.warning("cache invalidation listener ignored a malformed message")
            return
        if origin != self.origin and isinstance(tags, list):
            self.l1.invalidate_local([str(tag) for tag in tags])
