"""The breaker: after a failure, calls are refused for the pause, then one call probes while
the rest are still refused; the outage is logged when it starts, at most once a minute while it
lasts, and when it ends."""

import time

import pytest

from apiforge.kit.ratelimit.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    return clock


def test_one_probe_after_the_pause(clock: Clock) -> None:
    breaker = Breaker("redis", retry_after=1.0)
    assert breaker.allows()
    breaker.failed(OSError("refused"))
    assert not breaker.allows()
    clock.now += 1.0
    assert breaker.allows()  # the probe
    assert not breaker.allows()  # the others wait for its answer
    breaker.abandoned()  # the probe was cancelled: the next call probes instead
    assert breaker.allows()
    breaker.succeeded()
    assert breaker.allows()
    assert breaker.allows()
    assert not breaker.is_open


def test_an_outage_is_logged_at_start_each_minute_and_end(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    breaker = Breaker("redis", retry_after=1.0)
    for _ in range(130):  # two minutes of failed probes, one a second
        breaker.failed(TimeoutError())
        clock.now += 1.0
    breaker.succeeded()
    messages = [r.getMessage() for r in caplog.records if r.name == "apiforge.ratelimit"]
    assert len(messages) == 4
    assert "unavailable" in messages[0]
    assert "still unavailable after 60 s and 61 failed calls" in messages[1]
    assert "still unavailable after 120 s" in messages[2]
    assert "available again after 130.0 s and 130 failed calls" in messages[3]
