"""The kit's circuit breaker: after enough failed calls a backend (the cache's Redis, an upstream
HTTP service) is not called for a cool-down; then one probe decides whether it is back. A hung
backend so costs one timeout per cool-down, not one per request. Not for: retries.

    closed --(`failures` in a row, or `failure_rate` of the last `window`)--> open
    open --(`cooldown` s, next call)--> probing
    probing --(probe answers)--> closed        probing --(probe fails)--> open

While open or probing calls are skipped at once. The probe is either a background task
(`probe=`: the cache's PING, so no request waits on a Redis that may still be hung) or, without
one, the next real call itself (the half-open trial an HTTP upstream needs: only a real request
tells whether it answers). A trial that never reports (its caller was cancelled) expires after
another cool-down, so the breaker cannot stay probing forever.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum

Probe = Callable[[], Awaitable[bool]]
Clock = Callable[[], float]


class BreakerState(StrEnum):
    """Where the breaker is: calls go through only when `closed` (and one trial when probing
    without a background probe)."""

    CLOSED = "closed"
    OPEN = "open"
    PROBING = "probing"


class CircuitBreaker:
    """`failures`: consecutive failed calls that open it. `failure_rate` (0-1, optional): the
    share of failures among the last `window` calls that opens it too (once `window` calls
    were seen). `cooldown`: seconds it stays open before the next call starts `probe` (True:
    the backend answered) or, without `probe`, goes through as the trial. `subject` names the
    backend's kind in the log lines; the first opening of a burst logs a warning, the closing
    after it logs the recovery."""

    def __init__(
        self,
        name: str,
        probe: Probe | None = None,
        *,
        failures: int = 3,
        cooldown: float = 2.0,
        failure_rate: float | None = None,
        window: int = 20,
        subject: str = "backend",
        logger: logging.Logger | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_rate is not None and not 0 < failure_rate <= 1:
            raise ValueError("failure_rate is a share of calls, in (0, 1]")
        self.name = name
        self.failures = failures
        self.cooldown = cooldown
        self.failure_rate = failure_rate
        self.subject = subject
        self.state = BreakerState.CLOSED
        self.openings = 0  # times it opened (a probe that failed counts again), for tests
        self._probe = probe
        self._log = logger or logging.getLogger("apiforge.breaker")
        self._clock = clock
        self._in_a_row = 0
        self._recent: deque[bool] = deque(maxlen=window)  # True: that call failed
        self._opened_at = 0.0
        self._trial_at = 0.0
        self._down_since: float | None = None
        self._failed_calls = 0
        self._probe_task: asyncio.Task[None] | None = None

    def allows(self) -> bool:
        """Whether to call the backend now; past the cool-down it starts the probe (or lets
        this call through as the trial) instead."""
        if self.state is BreakerState.CLOSED:
            return True
        now = self._clock()
        if self.state is BreakerState.OPEN and now - self._opened_at >= self.cooldown:
            self.state = BreakerState.PROBING
            if self._probe is None:
                self._trial_at = now
                return True
            self._probe_task = asyncio.create_task(self._run_probe(), name=f"probe:{self.name}")
        elif (
            self.state is BreakerState.PROBING
            and self._probe is None
            and now - self._trial_at >= self.cooldown
        ):
            self._trial_at = now  # the last trial never reported back: another one goes
            return True
        self._failed_calls += 1
        return False

    def failed(self, exc: BaseException) -> None:
        self._in_a_row += 1
        self._failed_calls += 1
        self._recent.append(True)
        if self.state is BreakerState.PROBING and self._probe is None:
            self._open()  # the trial failed
        elif self.state is BreakerState.CLOSED and self._should_open():
            self._open()
            self._log.warning(
                "%s %s unavailable after %d failed calls, not called for %g s at a time: %s: %s",
                self.subject,
                self.name,
                self._in_a_row,
                self.cooldown,
                type(exc).__name__,
                exc,
            )

    def succeeded(self) -> None:
        self._in_a_row = 0
        self._recent.append(False)
        if self.state is not BreakerState.CLOSED:
            self._close()

    async def aclose(self) -> None:
        task, self._probe_task = self._probe_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _should_open(self) -> bool:
        if self._in_a_row >= self.failures:
            return True
        recent = self._recent
        if self.failure_rate is None or len(recent) < (recent.maxlen or 0):
            return False
        return sum(recent) >= self.failure_rate * len(recent)

    def _open(self) -> None:
        now = self._clock()
        self.state = BreakerState.OPEN
        self.openings += 1
        self._opened_at = now
        if self._down_since is None:
            self._down_since = now

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self._in_a_row = 0
        self._recent.clear()
        if self._down_since is not None:
            self._log.warning(
                "%s %s available again after %.1f s and %d failed or skipped calls",
                self.subject,
                self.name,
                self._clock() - self._down_since,
                self._failed_calls,
            )
        self._down_since, self._failed_calls = None, 0

    async def _run_probe(self) -> None:
        if self._probe is None:  # only started when there is one; narrows the type
            return
        try:
            answered = await self._probe()
        except Exception:  # noqa: BLE001  # a probe that raises must not leave it probing forever
            self._log.exception(
                "%s %s probe raised; it counts as a failed one", self.subject, self.name
            )
            answered = False
        if self.state is not BreakerState.PROBING:
            return  # a call that was already under way succeeded meanwhile and closed it
        if answered:
            self._close()
        else:
            self._open()
