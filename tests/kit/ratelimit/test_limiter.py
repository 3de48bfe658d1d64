"""The limiter over its backends: settings applied to declared policies, local policies kept in
process, keys that hold no subject in clear, and each policy's `on_failure` while Redis does not
answer: open lets through (counted), closed refuses (503), local counts in process, exactly."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from apiforge.kit import (
    LimitKey,
    OnFailure,
    Rate,
    RateLimitPolicy,
    RateLimitPolicySettings,
    RateLimitSettings,
    RedisRateLimitBackend,
)
from apiforge.kit.ratelimit import RateLimiter
from tests.kit.ratelimit.conftest import PinnedClock
from tests.kit.ratelimit.helpers import closed_port_url


def policy(name: str, on_failure: OnFailure = OnFailure.OPEN, **kw: bool) -> RateLimitPolicy:
    return RateLimitPolicy(name, (Rate(3, 60),), LimitKey.CUSTOM, on_failure=on_failure, **kw)


OPEN = policy("open_one")
CLOSED = policy("closed_one", OnFailure.CLOSED)
FALLBACK = policy("fallback_one", OnFailure.LOCAL)
LOCAL = policy("local_one", local=True)


@pytest.fixture
async def down() -> AsyncIterator[RateLimiter]:
    """A limiter whose Redis refuses every connection."""
    client = Redis.from_url(closed_port_url(), socket_connect_timeout=1)
    limiter = RateLimiter(RateLimitSettings(), [OPEN, CLOSED, FALLBACK, LOCAL])
    limiter.shared = RedisRateLimitBackend(client, prefix="test:rl:", retry_after=30)
    try:
        yield limiter
    finally:
        await client.aclose()


async def test_fail_open_lets_everything_through_and_counts_it(down: RateLimiter) -> None:
    decisions = [await down.decide([(OPEN, "x")]) for _ in range(10)]
    assert all(d.allowed and not d.unavailable for d in decisions)
    assert down.decisions["open_one", "failed_open"] == 10


async def test_fail_closed_refuses_as_unavailable(down: RateLimiter) -> None:
    decision = await down.decide([(CLOSED, "x")])
    assert (decision.allowed, decision.unavailable, decision.retry_after) == (False, True, 1.0)
    assert down.decisions["closed_one", "failed_closed"] == 1


async def test_one_closed_policy_refuses_the_whole_decision(down: RateLimiter) -> None:
    decision = await down.decide([(OPEN, "x"), (CLOSED, "x")])
    assert decision.unavailable


async def test_fail_local_counts_in_process_exactly(down: RateLimiter) -> None:
    results = [(await down.decide([(FALLBACK, "x")])).allowed for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert down.decisions["fallback_one", "fallback_allowed"] == 3
    assert down.decisions["fallback_one", "fallback_limited"] == 2
    assert (await down.decide([(FALLBACK, "y")])).allowed  # another subject, its own count


async def test_local_policies_never_ask_redis(down: RateLimiter) -> None:
    results = [(await down.decide([(LOCAL, "x")])).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    assert down.decisions["local_one", "limited"] == 1
    assert not down.shared.breaker.is_open  # type: ignore[attr-defined]  # the Redis backend


async def test_settings_adjust_and_lift_policies() -> None:
    settings = RateLimitSettings(
        policies={
            "open_one": RateLimitPolicySettings(rates=(Rate(1, 60),)),
            "local_one": RateLimitPolicySettings(enabled=False),
        }
    )
    limiter = RateLimiter(settings, [OPEN, LOCAL])
    assert [(await limiter.decide([(OPEN, "x")])).allowed for _ in range(2)] == [True, False]
    lifted = [await limiter.decide([(LOCAL, "x")]) for _ in range(10)]
    assert all(d.allowed and not d.usages for d in lifted)


async def test_keys_hold_no_subject_in_clear() -> None:
    limiter = RateLimiter(RateLimitSettings(key_prefix="shop:ratelimit:"), [OPEN])
    key = limiter.key(OPEN, "someone@example.com\n203.0.113.9")
    assert key.startswith("shop:ratelimit:open_one:")
    assert "example" not in key
    assert len(key) == len(limiter.key(OPEN, "x" * 500))


async def test_forget_starts_a_subject_afresh() -> None:
    clock = PinnedClock()
    limiter = RateLimiter(RateLimitSettings(), [LOCAL], clock=clock)
    for _ in range(3):
        await limiter.decide([(LOCAL, "x")])
    assert not (await limiter.decide([(LOCAL, "x")])).allowed
    await limiter.forget(LOCAL, "x")
    assert (await limiter.decide([(LOCAL, "x")])).allowed


async def test_a_local_refusal_spares_the_shared_count(redis_client: Redis) -> None:
    limiter = RateLimiter(RateLimitSettings(key_prefix="test:rl:"), [OPEN, LOCAL])
    limiter.shared = RedisRateLimitBackend(redis_client, prefix="test:rl:")
    for _ in range(3):
        assert (await limiter.decide([(LOCAL, "x")])).allowed
    for _ in range(5):
        refused = await limiter.decide([(LOCAL, "x"), (OPEN, "s")])
        assert not refused.allowed
    # Refused in process first, the request never counted in Redis: all three still fit.
    assert [(await limiter.decide([(OPEN, "s")])).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
