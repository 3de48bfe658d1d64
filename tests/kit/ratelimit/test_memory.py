"""What only the in-process backend does: expired keys are swept a few per decision (memory
follows the keys in use, with no pause to scan them all), and `max_keys` bounds it."""

from apiforge.kit import MemoryRateLimitBackend, Rate
from tests.kit.ratelimit.conftest import PinnedClock

ONE_PER_MINUTE = (Rate(1, 60),)


async def test_expired_keys_are_swept_as_decisions_go() -> None:
    clock = PinnedClock()
    backend = MemoryRateLimitBackend(clock=clock)
    for i in range(1000):
        await backend.hit([(f"old{i}", ONE_PER_MINUTE)])
    assert len(backend) == 1000
    clock.advance(61)
    for _ in range(300):  # 4 keys looked at per decision: 1,200 >= the 1,000 expired
        await backend.hit([("new", ONE_PER_MINUTE)])
    assert len(backend) == 1


async def test_max_keys_bounds_memory() -> None:
    backend = MemoryRateLimitBackend(clock=PinnedClock(), max_keys=100)
    for i in range(250):
        await backend.hit([(f"k{i}", ONE_PER_MINUTE)])
    assert len(backend) == 100
    assert backend.evicted == 150
    assert not (await backend.hit([("k249", ONE_PER_MINUTE)])).allowed  # recent keys stay
