"""The shared cache's circuit breaker: the kit's (kit.breaker) with a background PING as its
probe, so no request waits on a Redis that may still be hung. Not for: retries."""

import logging

from apiforge.kit.breaker import BreakerState, CircuitBreaker, Probe

logger = logging.getLogger("apiforge.cache")


def cache_breaker(name: str, probe: Probe, *, failures: int, cooldown: float) -> CircuitBreaker:
    """A breaker for the cache named `name` that logs as "cache NAME ..." on apiforge.cache."""
    return CircuitBreaker(
        name, probe, failures=failures, cooldown=cooldown, subject="cache", logger=logger
    )


__all__ = ["BreakerState", "CircuitBreaker", "Probe", "cache_breaker"]
