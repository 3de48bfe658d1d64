"""Counts in Redis, shared by every process: one Lua script per decision (read, decide and count
in one atomic step), each call bounded by a timeout, Redis resting after a failure. Not for:
what a failure answers (each policy's `on_failure`, limiter.py)."""

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from apiforge.kit.ratelimit.breaker import Breaker
from apiforge.kit.ratelimit.protocol import BackendUnavailableError, Clock, Counted, Usage
from apiforge.kit.rates import Rate

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Fixed windows over several keys at once, all or nothing. KEYS: one hash per (policy,
# subject); its fields r<ms> and n<ms> hold a window's closing time and count. ARGV[1]: now in
# ms, or '' for Redis's own clock (one clock for every process); then per key the number of
# its windows and a (limit, window ms) pair for each. Returns 1 or 0 (allowed), then per
# window the count after the decision and the ms until the window closes. Denied requests
# count nowhere; a key expires with its last window.
_HIT = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local allowed, plan, arg = 1, {}, 2
for k = 1, #KEYS do
  for _ = 1, tonumber(ARGV[arg]) do
    local limit, span = tonumber(ARGV[arg + 1]), tonumber(ARGV[arg + 2])
    arg = arg + 2
    local got = redis.call('HMGET', KEYS[k], 'r' .. span, 'n' .. span)
    local closes, used = tonumber(got[1]), tonumber(got[2]) or 0
    if not closes or closes <= now then closes, used = now + span, 0 end
    if used >= limit then allowed = 0 end
    plan[#plan + 1] = {k, span, closes, used}
  end
  arg = arg + 1
end
local out, ttl = {allowed}, {}
for _, w in ipairs(plan) do
  local k, span, closes, used = w[1], w[2], w[3], w[4]
  if allowed == 1 then
    used = used + 1
    redis.call('HSET', KEYS[k], 'r' .. span, closes, 'n' .. span, used)
    ttl[k] = math.max(ttl[k] or 0, closes - now)
  end
  out[#out + 1] = used
  out[#out + 1] = closes - now
end
for k, ms in pairs(ttl) do redis.call('PEXPIRE', KEYS[k], ms) end
return out
"""
_CLEAR_BATCH = 500


class RedisRateLimitBackend:
    """`RateLimitBackend` on Redis (redis.asyncio). `clock`: None uses Redis's clock (the
    same for every process); tests pass one to pin time. `timeout`: the most a decision waits
    for Redis. `retry_after`: how long Redis rests after a failure (decisions fail at once
    meanwhile, so a hung Redis costs one timeout per pause, not one per request). `prefix`:
    what `clear` deletes."""

    def __init__(
        self,
        redis: "Redis",
        *,
        prefix: str,
        clock: Clock | None = None,
        timeout: float = 0.25,
        retry_after: float = 1.0,
    ) -> None:
        from redis.exceptions import RedisError  # an optional extra: imported when used

        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.timeout = timeout
        self.breaker = Breaker("rate-limit Redis", retry_after=retry_after)
        self._failures = (RedisError, OSError, TimeoutError)
        self._script = redis.register_script(_HIT)

    async def hit(self, keys: Sequence[tuple[str, Sequence[Rate]]]) -> Counted:
        args: list[Any] = ["" if self.clock is None else int(self.clock() * 1000)]
        for _, rates in keys:
            args.append(len(rates))
            for rate in rates:
                args += [rate.limit, rate.window * 1000]
        found = await self._call(lambda: self._script([key for key, _ in keys], args))
        usages, at = [], 1
        for _, rates in keys:
            usages.append(
                tuple(
                    Usage(rate, int(found[at + 2 * i]), int(found[at + 2 * i + 1]) / 1000)
                    for i, rate in enumerate(rates)
                )
            )
            at += 2 * len(rates)
        return Counted(bool(found[0]), tuple(usages))

    async def reset(self, key: str) -> None:
        await self._call(lambda: self.redis.delete(key))

    async def clear(self) -> None:
        async def delete_all() -> None:
            batch = []
            async for key in self.redis.scan_iter(match=f"{self.prefix}*", count=_CLEAR_BATCH):
                batch.append(key)
                if len(batch) >= _CLEAR_BATCH:
                    await self.redis.unlink(*batch)
                    batch.clear()
            if batch:
                await self.redis.unlink(*batch)

        await self._call(delete_all)

    async def _call(self, operation: Any) -> Any:
        if not self.breaker.allows():
            raise BackendUnavailableError("Redis is resting after a failure")
        try:
            async with asyncio.timeout(self.timeout):
                result = await operation()
        except self._failures as exc:
            self.breaker.failed(exc)
            raise BackendUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        except asyncio.CancelledError:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return result
