"""Per-cache counters (hits, misses, loads, errors): plain integers, the cheapest thing on the
request path; kit.metrics carries them over to Prometheus counters labelled by `name` off the
request path. Not for: timing."""

from dataclasses import dataclass


@dataclass(slots=True)
class CacheStats:
    """Counters of one cache layer. `errors` counts failed backend calls (Redis down or slow),
    each of which was answered as a miss; `loads` counts loader calls (after single-flight)."""

    name: str
    hits: int = 0
    misses: int = 0
    loads: int = 0
    errors: int = 0
