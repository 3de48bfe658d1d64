"""The kit's breaker in its trial mode (no background probe: the next call after the cool-down
is the trial), on a controlled clock. The cache's background-probe mode is tested in
tests/kit/cache/test_breaker.py."""

import logging

import pytest

from apiforge.kit.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state_of(b: CircuitBreaker) -> BreakerState:
    """Read through a call, so mypy does not keep the state narrowed across calls."""
    return b.state


def breaker(clock: Clock, **kwargs: object) -> CircuitBreaker:
    return CircuitBreaker("up", cooldown=5.0, clock=clock, subject="upstream", **kwargs)  # type: ignore[arg-type]  # the test passes keyword options through


def test_opens_after_consecutive_failures_and_lets_one_trial_through() -> None:
    clock = Clock()
    b = breaker(clock, failures=2)
    b.failed(OSError("x"))
    assert b.allows()
    b.failed(OSError("x"))
    assert state_of(b) is BreakerState.OPEN
    assert not b.allows()
    clock.now += 5
    assert b.allows()  # the trial
    assert state_of(b) is BreakerState.PROBING
    assert not b.allows()  # only one
    b.succeeded()
    assert state_of(b) is BreakerState.CLOSED
    assert b.allows()


def test_a_failed_trial_opens_it_for_another_cooldown() -> None:
    clock = Clock()
    b = breaker(clock, failures=1)
    b.failed(OSError("x"))
    clock.now += 5
    assert b.allows()
    b.failed(OSError("x"))
    assert state_of(b) is BreakerState.OPEN
    assert b.openings == 2
    clock.now += 4.9
    assert not b.allows()


def test_a_trial_that_never_reports_expires() -> None:
    clock = Clock()
    b = breaker(clock, failures=1)
    b.failed(OSError("x"))
    clock.now += 5
    assert b.allows()  # its caller is cancelled and never reports
    clock.now += 4
    assert not b.allows()
    clock.now += 1
    assert b.allows()


def test_a_failure_rate_over_the_window_opens_it() -> None:
    clock = Clock()
    b = breaker(clock, failures=100, failure_rate=0.5, window=4)
    for failed in (True, False, False):
        b.failed(OSError()) if failed else b.succeeded()
    assert state_of(b) is BreakerState.CLOSED  # fewer calls than the window: no rate yet
    b.failed(OSError())
    assert state_of(b) is BreakerState.OPEN


def test_a_low_failure_rate_keeps_it_closed() -> None:
    clock = Clock()
    b = breaker(clock, failures=100, failure_rate=0.5, window=4)
    for failed in (True, False, False, False, True, False, False, False):
        b.failed(OSError()) if failed else b.succeeded()
    assert state_of(b) is BreakerState.CLOSED


def test_rate_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="share"):
        CircuitBreaker("x", failure_rate=1.5)


def test_logs_name_the_subject(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    b = breaker(clock, failures=1)
    with caplog.at_level(logging.WARNING, logger="apiforge.breaker"):
        b.failed(OSError("refused"))
        clock.now += 5
        b.allows()
        b.succeeded()
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("upstream up unavailable after 1 failed calls")
    assert messages[1].startswith("upstream up available again after 5.0 s")
