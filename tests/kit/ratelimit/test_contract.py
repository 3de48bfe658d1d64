"""The RateLimitBackend contract, run over every backend (in process and Redis) on a pinned
clock: exact counts, window edges, exact retry times, several windows and keys at once (all or
nothing), and exactness under concurrency."""

import asyncio

from apiforge.kit import Rate, RateLimitBackend
from tests.kit.ratelimit.conftest import PREFIX, PinnedClock

THREE_PER_10S = (Rate(3, 10),)


async def allowed(backend: RateLimitBackend, key: str, rates: tuple[Rate, ...]) -> bool:
    return (await backend.hit([(PREFIX + key, rates)])).allowed


async def test_exactly_the_limit_then_refused(backend: RateLimitBackend) -> None:
    results = [await allowed(backend, "a", THREE_PER_10S) for _ in range(5)]
    assert results == [True, True, True, False, False]


async def test_usage_counts_remaining_and_reset(
    backend: RateLimitBackend, clock: PinnedClock
) -> None:
    first = await backend.hit([(PREFIX + "a", THREE_PER_10S)])
    ((usage,),) = first.usages
    assert (usage.used, usage.remaining, usage.reset_after) == (1, 2, 10.0)
    clock.advance(4)
    ((usage,),) = (await backend.hit([(PREFIX + "a", THREE_PER_10S)])).usages
    assert (usage.used, usage.remaining, usage.reset_after) == (2, 1, 6.0)


async def test_retry_after_is_exact_on_a_pinned_clock(
    backend: RateLimitBackend, clock: PinnedClock
) -> None:
    for _ in range(3):
        assert await allowed(backend, "a", THREE_PER_10S)
        clock.advance(1)
    clock.advance(0.5)  # 3.5 s after the window opened
    refused = await backend.hit([(PREFIX + "a", THREE_PER_10S)])
    assert not refused.allowed
    assert refused.retry_after == 6.5
    ((usage,),) = refused.usages
    assert (usage.used, usage.remaining, usage.full) == (3, 0, True)


async def test_the_window_closes_at_its_edge(backend: RateLimitBackend, clock: PinnedClock) -> None:
    for _ in range(3):
        assert await allowed(backend, "a", THREE_PER_10S)
    clock.advance(9.999)
    assert not await allowed(backend, "a", THREE_PER_10S)
    clock.advance(0.001)  # exactly 10 s after the first request
    assert await allowed(backend, "a", THREE_PER_10S)
    ((usage,),) = (await backend.hit([(PREFIX + "a", THREE_PER_10S)])).usages
    assert (usage.used, usage.reset_after) == (2, 10.0)  # a new window, opened by that request


async def test_refused_requests_do_not_count(backend: RateLimitBackend, clock: PinnedClock) -> None:
    for _ in range(3):
        await allowed(backend, "a", THREE_PER_10S)
    for _ in range(10):
        clock.advance(0.5)
        assert not await allowed(backend, "a", THREE_PER_10S)
    clock.advance(5.0)  # 10 s after the first: refusals did not extend the window
    assert await allowed(backend, "a", THREE_PER_10S)


async def test_several_windows_at_once(backend: RateLimitBackend, clock: PinnedClock) -> None:
    rates = (Rate(2, 1), Rate(3, 10))
    assert [await allowed(backend, "a", rates) for _ in range(3)] == [True, True, False]
    refused = await backend.hit([(PREFIX + "a", rates)])
    assert refused.retry_after == 1.0  # only the 1 s window is full
    clock.advance(1)
    assert await allowed(backend, "a", rates)  # a new second; the 10 s window now holds 3
    clock.advance(0.5)
    refused = await backend.hit([(PREFIX + "a", rates)])
    assert not refused.allowed
    assert refused.retry_after == 8.5  # the 10 s window, opened at 0, closes at 10
    ((one_second, ten_seconds),) = refused.usages
    assert (one_second.used, one_second.full) == (1, False)
    assert (ten_seconds.used, ten_seconds.full) == (3, True)


async def test_several_keys_all_or_nothing(backend: RateLimitBackend) -> None:
    for _ in range(3):
        await allowed(backend, "full", THREE_PER_10S)
    both = [(PREFIX + "fresh", THREE_PER_10S), (PREFIX + "full", THREE_PER_10S)]
    refused = await backend.hit(both)
    assert not refused.allowed
    fresh, full = refused.usages
    assert (fresh[0].used, full[0].used) == (0, 3)
    # "fresh" was not counted: three more fit.
    assert [await allowed(backend, "fresh", THREE_PER_10S) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


async def test_keys_are_independent(backend: RateLimitBackend) -> None:
    for _ in range(3):
        await allowed(backend, "a", THREE_PER_10S)
    assert not await allowed(backend, "a", THREE_PER_10S)
    assert await allowed(backend, "b", THREE_PER_10S)


async def test_reset_forgets_one_key(backend: RateLimitBackend) -> None:
    for _ in range(3):
        await allowed(backend, "a", THREE_PER_10S)
        await allowed(backend, "b", THREE_PER_10S)
    await backend.reset(PREFIX + "a")
    await backend.reset(PREFIX + "never-seen")
    assert await allowed(backend, "a", THREE_PER_10S)
    assert not await allowed(backend, "b", THREE_PER_10S)


async def test_clear_forgets_every_key(backend: RateLimitBackend) -> None:
    for key in ("a", "b"):
        for _ in range(3):
            await allowed(backend, key, THREE_PER_10S)
    await backend.clear()
    assert await allowed(backend, "a", THREE_PER_10S)
    assert await allowed(backend, "b", THREE_PER_10S)


async def test_exact_under_concurrency(backend: RateLimitBackend) -> None:
    """200 decisions at once for one key with room for 50: exactly 50 allowed (each backend
    decides in one atomic step; a read-then-write would let a few extra through)."""
    rates = (Rate(50, 10),)
    results = await asyncio.gather(*(allowed(backend, "hot", rates) for _ in range(200)))
    assert results.count(True) == 50
    assert results.count(False) == 150
