"""When a failed delivery is tried again: Svix's published schedule, so receivers get the
behaviour they know. Not for: sending.

    attempt 1 at once, then after 5 s, 5 min, 30 min, 2 h, 5 h and 10 h
    (7 attempts over about 17 h 35 min; after the 7th failure the delivery is `failed`)
"""

from datetime import datetime, timedelta

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def next_attempt(failed_attempts: int, now: datetime) -> datetime | None:
    """When to try again after `failed_attempts` failures (1-based), None once the schedule is
    used up."""
    if failed_attempts < 1:
        raise ValueError("counted from the first failed attempt")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[failed_attempts - 1]
