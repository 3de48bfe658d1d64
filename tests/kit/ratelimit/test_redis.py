"""What only the Redis backend does: keys that expire with their last window, Redis's own clock,
and failing fast: a refused connection or a hung server costs one bounded wait, then Redis
rests (the breaker) and decisions fail at once until one call probes it again."""

import asyncio
import time

import pytest
from redis.asyncio import Redis

from apiforge.kit import Rate, RedisRateLimitBackend
from apiforge.kit.ratelimit import BackendUnavailableError
from tests.kit.ratelimit.conftest import PREFIX
from tests.kit.ratelimit.helpers import closed_port_url, hung_redis

RATES = (Rate(3, 10), Rate(100, 3600))


async def test_a_key_expires_with_its_last_window(redis_client: Redis) -> None:
    backend = RedisRateLimitBackend(redis_client, prefix=PREFIX)
    await backend.hit([(PREFIX + "a", RATES)])
    ttl_ms = await redis_client.pttl(PREFIX + "a")
    assert 3_590_000 < ttl_ms <= 3_600_000


async def test_redis_clock_counts_the_same(redis_client: Redis) -> None:
    backend = RedisRateLimitBackend(redis_client, prefix=PREFIX)  # no clock: Redis's TIME
    results = [(await backend.hit([(PREFIX + "a", RATES)])).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    refused = await backend.hit([(PREFIX + "a", RATES)])
    assert 9.0 < refused.retry_after <= 10.0


async def test_a_refused_connection_fails_at_once_then_rests() -> None:
    client = Redis.from_url(closed_port_url(), socket_connect_timeout=1)
    backend = RedisRateLimitBackend(client, prefix=PREFIX, retry_after=30)
    try:
        with pytest.raises(BackendUnavailableError, match="ConnectionError"):
            await backend.hit([(PREFIX + "a", RATES)])
        with pytest.raises(BackendUnavailableError, match="resting"):
            await backend.hit([(PREFIX + "a", RATES)])
        assert backend.breaker.failures == 1  # the second call never reached the network
    finally:
        await client.aclose()


async def test_a_hung_redis_costs_one_timeout_per_pause() -> None:
    async with hung_redis() as url:
        client = Redis.from_url(url, socket_timeout=30)
        backend = RedisRateLimitBackend(client, prefix=PREFIX, timeout=0.2, retry_after=0.5)
        try:
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError, match="TimeoutError"):
                await backend.hit([(PREFIX + "a", RATES)])
            first = time.monotonic() - started
            started = time.monotonic()
            for _ in range(50):
                with pytest.raises(BackendUnavailableError, match="resting"):
                    await backend.hit([(PREFIX + "a", RATES)])
            resting = time.monotonic() - started
            await asyncio.sleep(0.5)  # the pause is over: the next call probes Redis again
            with pytest.raises(BackendUnavailableError, match="TimeoutError"):
                await backend.hit([(PREFIX + "a", RATES)])
        finally:
            await client.aclose()
    assert 0.19 <= first < 2.0
    assert resting < 0.5  # 50 decisions without a network wait
    assert backend.breaker.failures == 2


async def test_recovery_is_logged_once(
    redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    backend = RedisRateLimitBackend(redis_client, prefix=PREFIX, retry_after=0.01)
    backend.breaker.failed(ConnectionError("gone"))
    await asyncio.sleep(0.02)
    await backend.hit([(PREFIX + "a", RATES)])
    await backend.hit([(PREFIX + "a", RATES)])
    messages = [r.getMessage() for r in caplog.records if r.name == "apiforge.ratelimit"]
    assert len(messages) == 2
    assert "unavailable (ConnectionError: gone)" in messages[0]
    assert "available again" in messages[1]
