"""Tracks a backing store's outage so a dead Redis costs one log line per burst and, for a
short while after each failure, no network wait at all. Not for: retries."""

import logging
import time

logger = logging.getLogger("apiforge.cache")


class Outage:
    """A tiny circuit breaker. After a failure, calls are skipped for `retry_after` seconds;
    the first failure of a burst logs a warning, the first success after it logs recovery."""

    def __init__(self, name: str, *, retry_after: float = 1.0) -> None:
        self.name = name
        self.retry_after = retry_after
        self._retry_at = 0.0
        self._down_since: float | None = None
        self._failures = 0

    @property
    def blocked(self) -> bool:
        return self._retry_at != 0.0 and time.monotonic() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_after
        self._failures += 1
        if self._down_since is None:
            self._down_since = now
            logger.warning(
                "cache %s unavailable, serving misses: %s: %s",
                self.name,
                type(exc).__name__,
                exc,
            )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        logger.warning(
            "cache %s available again after %.1f s and %d failed calls",
            self.name,
            time.monotonic() - self._down_since,
            self._failures,
        )
        self._down_since, self._retry_at, self._failures = None, 0.0, 0
