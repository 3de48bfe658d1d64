"""The contract every rate-limit backend keeps (in-process memory, Redis), and the figures a
decision returns. Not for: policies (kit.rates) or what a refusal answers (limiter.py)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from apiforge.kit.rates import Rate

# Seconds, as `time.monotonic` gives them: injected in tests to pin window edges and exact
# `Retry-After` values.
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Usage:
    """One window after a decision: how much of `rate.limit` is `used` (this request included
    when it was allowed) and how long until the window closes and its count starts over."""

    rate: Rate
    used: int
    reset_after: float

    @property
    def remaining(self) -> int:
        return max(0, self.rate.limit - self.used)

    @property
    def full(self) -> bool:
        return self.used >= self.rate.limit


@dataclass(frozen=True, slots=True)
class Counted:
    """A backend's answer for one call: `allowed` (every window of every key had room, and
    each now counts this request) or not (nothing was counted), with each key's windows in
    the order asked."""

    allowed: bool
    usages: tuple[tuple[Usage, ...], ...]

    @property
    def retry_after(self) -> float:
        """Seconds until every full window has closed (0 when allowed)."""
        if self.allowed:
            return 0.0
        return max((u.reset_after for keyed in self.usages for u in keyed if u.full), default=0)


class BackendUnavailableError(Exception):
    """The backend could not decide (Redis down, slow, or resting after a failure)."""


class RateLimitBackend(Protocol):
    """Counts requests in fixed windows per key. `hit` is all or nothing and atomic: for
    `keys` (each with its rates) it counts the request in every window only when every window
    has room, and concurrent calls never both take the last unit. A window opens with the
    first request it counts and closes `rate.window` seconds later. Raises
    `BackendUnavailableError` when it cannot decide."""

    async def hit(self, keys: Sequence[tuple[str, Sequence[Rate]]]) -> Counted: ...

    async def reset(self, key: str) -> None:
        """Forget `key`'s counts (a successful login clears its failures)."""
        ...

    async def clear(self) -> None:
        """Forget every count (tests; lifting limits at once)."""
        ...
