"""When an outbound call may be repeated and how long to wait first: idempotent requests only,
full-jitter exponential backoff, and the upstream's own `Retry-After`. Not for: sending."""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Answers that say "try again": a timeout, a limit, and the gateway/overload family.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def may_retry(request: httpx.Request) -> bool:
    """A request that can be sent twice with the effect of once (RFC 9110 section 9.2.2), or
    that carries an Idempotency-Key the upstream deduplicates by."""
    return request.method in IDEMPOTENT_METHODS or IDEMPOTENCY_KEY_HEADER in request.headers


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): "full jitter", uniform in
    [0, min(cap, base * 2**(attempt-1))], so clients that failed together do not retry
    together (AWS Architecture Blog, "Exponential Backoff And Jitter")."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)  # jitter, not cryptography


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """The response's `Retry-After` in seconds (delta-seconds or an HTTP-date), None when
    absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value), 10**7))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
