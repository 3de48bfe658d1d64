"""The shared cache's circuit breaker: its states on a scripted probe, then RedisCache in front
of a real Redis made to hang by the fault proxy (a blackhole): one timeout per cool-down, not
one per call, and hits again once Redis answers."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from apiforge.kit.cache import RedisCache
from apiforge.kit.cache.breaker import BreakerState, CircuitBreaker
from tests.faults.proxy import BLACKHOLE, PASS, FaultProxy

FAILED = OSError("down")


class ScriptedProbe:
    """Answers the breaker's probes from a list, counting them."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        if not self.answers:
            raise RuntimeError("a probe nobody expected")
        return self.answers.pop(0)


async def settled(breaker: CircuitBreaker) -> BreakerState:
    """The state once a running probe has finished."""
    async with asyncio.timeout(2):
        while breaker.state is BreakerState.PROBING:  # noqa: ASYNC110  # a state, not an event
            await asyncio.sleep(0.001)
    return breaker.state


async def test_opens_after_failures_in_a_row_only() -> None:
    breaker = CircuitBreaker("t", ScriptedProbe(), failures=3, cooldown=60)
    for _ in range(2):
        breaker.failed(FAILED)
    breaker.succeeded()  # a success in between starts the count again
    breaker.failed(FAILED)
    breaker.failed(FAILED)
    assert breaker.allows()
    breaker.failed(FAILED)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allows()
    assert breaker.openings == 1


async def test_after_the_cooldown_one_background_probe_decides() -> None:
    probe = ScriptedProbe(False, True)
    breaker = CircuitBreaker("t", probe, failures=1, cooldown=0.05)
    breaker.failed(FAILED)
    await asyncio.sleep(0.06)
    assert not breaker.allows()  # this call starts the probe and is itself skipped
    assert not breaker.allows()  # so is every call while it runs
    assert await settled(breaker) is BreakerState.OPEN  # it failed: another cool-down
    assert (probe.calls, breaker.openings) == (1, 2)
    assert not breaker.allows()
    await asyncio.sleep(0.06)
    assert not breaker.allows()
    assert await settled(breaker) is BreakerState.CLOSED
    assert breaker.allows()
    assert probe.calls == 2


async def test_a_probe_that_raises_counts_as_failed() -> None:
    breaker = CircuitBreaker("t", ScriptedProbe(), failures=1, cooldown=0.01)
    breaker.failed(FAILED)
    await asyncio.sleep(0.02)
    breaker.allows()
    assert await settled(breaker) is BreakerState.OPEN


async def test_closing_cancels_a_running_probe() -> None:
    started = asyncio.Event()

    async def hangs() -> bool:
        started.set()
        await asyncio.sleep(60)
        return True

    breaker = CircuitBreaker("t", hangs, failures=1, cooldown=0)
    breaker.failed(FAILED)
    breaker.allows()
    await started.wait()
    await breaker.aclose()
    assert breaker.state is BreakerState.PROBING  # nothing decided it; nothing is left running


@pytest.fixture
async def hung_redis(
    redis_url: str, redis_client: Redis
) -> AsyncIterator[tuple[FaultProxy, Redis]]:
    """A client that reaches this worker's Redis through the fault proxy."""
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as proxy:
        client = Redis.from_url(redis_url.replace(f":{port}/", f":{proxy.port}/"))
        try:
            yield proxy, client
        finally:
            await client.aclose()


async def test_a_hung_redis_costs_one_timeout_per_cooldown(
    hung_redis: tuple[FaultProxy, Redis],
) -> None:
    proxy, client = hung_redis
    cache = RedisCache(client, timeout=0.2, failures=3, cooldown=0.5)
    try:
        await cache.set("k", b"v", ttl=60)
        assert await cache.get("k") == b"v"
        proxy.set(BLACKHOLE)
        slow, started = 0, time.monotonic()
        while time.monotonic() - started < 2:  # four cool-downs
            call = time.monotonic()
            assert await cache.get("k") is None  # a miss, never an error
            slow += time.monotonic() - call > 0.1
            await asyncio.sleep(0.01)
        # The failures that opened it (one more allowed for a stall of a busy machine): every
        # probe ran in the background.
        assert 3 <= slow <= 4
        assert cache.breaker.openings >= 2  # probes went out, and failed

        proxy.set(PASS)
        back = time.monotonic()
        while await cache.get("k") != b"v":
            assert time.monotonic() - back < 0.5 + 0.2 + 1  # cool-down + probe + slack
            await asyncio.sleep(0.01)
        assert cache.breaker.state is BreakerState.CLOSED
    finally:
        await cache.aclose()
