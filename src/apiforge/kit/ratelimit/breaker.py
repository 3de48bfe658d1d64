"""A small circuit breaker for the limiter's Redis: after a failure calls fail at once for a
pause, then one call probes; the outage is logged at its start, once a minute while it lasts,
and at its end. Not for: retries (a policy's `on_failure` answers instead)."""

import logging
import time

logger = logging.getLogger("apiforge.ratelimit")
REMIND_EVERY_SECONDS = 60.0


class Breaker:
    """`allows()` before a call, then `succeeded()`, `failed(exc)` or `abandoned()` (the
    call was cancelled) after it."""

    def __init__(self, name: str, *, retry_after: float = 1.0) -> None:
        self.name = name
        self.retry_after = retry_after
        self.failures = 0  # in the current outage
        self._open_until = 0.0
        self._probing = False
        self._down_since: float | None = None
        self._reminded_at = 0.0

    @property
    def is_open(self) -> bool:
        return self._down_since is not None

    def allows(self) -> bool:
        if self._down_since is None:
            return True
        if self._probing or time.monotonic() < self._open_until:
            return False
        self._probing = True
        return True

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._probing = False
        self._open_until = now + self.retry_after
        self.failures += 1
        if self._down_since is None:
            self._down_since = self._reminded_at = now
            logger.warning(
                "%s unavailable (%s: %s); each policy's on_failure answers until it is back",
                self.name,
                type(exc).__name__,
                exc,
            )
        elif now - self._reminded_at >= REMIND_EVERY_SECONDS:
            self._reminded_at = now
            logger.warning(
                "%s still unavailable after %.0f s and %d failed calls (%s)",
                self.name,
                now - self._down_since,
                self.failures,
                type(exc).__name__,
            )

    def succeeded(self) -> None:
        self._probing = False
        if self._down_since is None:
            return
        logger.warning(
            "%s available again after %.1f s and %d failed calls",
            self.name,
            time.monotonic() - self._down_since,
            self.failures,
        )
        self._down_since, self._open_until, self.failures = None, 0.0, 0

    def abandoned(self) -> None:
        self._probing = False
