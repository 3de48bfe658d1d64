"""The shared cache's circuit breaker: after a few consecutive failed calls, Redis is not called
for a cool-down; then a background probe decides whether it is back. A hung Redis so costs one
timeout per cool-down (the probe's), not one per request. Not for: retries.

    closed --(`failures` in a row)--> open --(`cooldown` s, next call)--> probing
    probing --(probe answers)--> closed        probing --(probe fails)--> open

While open or probing every call is skipped at once (the caller serves a miss). The probe runs
as its own task, so no request waits on a Redis that may still be hung.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

logger = logging.getLogger("apiforge.cache")

Probe = Callable[[], Awaitable[bool]]


class BreakerState(StrEnum):
    """Where the breaker is: calls go through only when `closed`."""

    CLOSED = "closed"
    OPEN = "open"
    PROBING = "probing"


class CircuitBreaker:
    """`failures`: consecutive failed calls that open it. `cooldown`: seconds it stays open
    before the next call starts `probe` (True: the backend answered). The first opening of a
    burst logs a warning, the closing after it logs the recovery."""

    def __init__(
        self, name: str, probe: Probe, *, failures: int = 3, cooldown: float = 2.0
    ) -> None:
        self.name = name
        self.failures = failures
        self.cooldown = cooldown
        self.state = BreakerState.CLOSED
        self.openings = 0  # times it opened (a probe that failed counts again), for tests
        self._probe = probe
        self._in_a_row = 0
        self._opened_at = 0.0
        self._down_since: float | None = None
        self._failed_calls = 0
        self._probe_task: asyncio.Task[None] | None = None

    def allows(self) -> bool:
        """Whether to call the backend now; past the cool-down it starts the probe instead."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and time.monotonic() - self._opened_at >= self.cooldown:
            self.state = BreakerState.PROBING
            self._probe_task = asyncio.create_task(self._run_probe(), name=f"probe:{self.name}")
        self._failed_calls += 1
        return False

    def failed(self, exc: BaseException) -> None:
        self._in_a_row += 1
        self._failed_calls += 1
        if self.state is BreakerState.CLOSED and self._in_a_row >= self.failures:
            self._open()
            logger.warning(
                "cache %s unavailable after %d failed calls, not called for %g s at a time: %s: %s",
                self.name,
                self._in_a_row,
                self.cooldown,
                type(exc).__name__,
                exc,
            )

    def succeeded(self) -> None:
        self._in_a_row = 0
        if self.state is not BreakerState.CLOSED:
            self._close()

    async def aclose(self) -> None:
        task, self._probe_task = self._probe_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _open(self) -> None:
        now = time.monotonic()
        self.state = BreakerState.OPEN
        self.openings += 1
        self._opened_at = now
        if self._down_since is None:
            self._down_since = now

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self._in_a_row = 0
        if self._down_since is not None:
            logger.warning(
                "cache %s available again after %.1f s and %d failed or skipped calls",
                self.name,
                time.monotonic() - self._down_since,
                self._failed_calls,
            )
        self._down_since, self._failed_calls = None, 0

    async def _run_probe(self) -> None:
        try:
            answered = await self._probe()
        except Exception:  # a probe that raises must not leave the breaker probing forever
            logger.exception("cache %s probe raised; it counts as a failed one", self.name)
            answered = False
        if self.state is not BreakerState.PROBING:
            return  # a call that was already under way succeeded meanwhile and closed it
        if answered:
            self._close()
        else:
            self._open()
