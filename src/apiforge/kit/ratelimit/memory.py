"""Counts in this process (the embedded default, `local` policies, the fallback while Redis is
down); exact within the process: a decision reads and writes its counters with no `await` in
between. Not for: limits shared by several processes (redis_backend.py)."""

import time
from collections import OrderedDict
from collections.abc import Sequence

from apiforge.kit.ratelimit.protocol import Clock, Counted, Usage
from apiforge.kit.rates import Rate

# Each decision looks at this many of the least recently looked-at keys and drops the expired
# ones: a steady sweep of bounded cost instead of a pause to scan them all.
SWEEP_STEP = 4


class MemoryRateLimitBackend:
    """`RateLimitBackend` in a dict: per key, per window length, `[closes_at, count]`. Expired
    keys are swept a few per decision; past `max_keys`, the least recently swept are dropped
    (their clients start afresh: a bound on the memory an address-spraying client fills)."""

    def __init__(self, *, clock: Clock = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self.evicted = 0
        self._keys: OrderedDict[str, dict[int, list[float]]] = OrderedDict()

    async def hit(self, keys: Sequence[tuple[str, Sequence[Rate]]]) -> Counted:
        return self.hit_now(keys)

    def hit_now(self, keys: Sequence[tuple[str, Sequence[Rate]]]) -> Counted:
        """`hit` without a coroutine, for callers already on the loop."""
        now = self.clock()
        plan: list[tuple[list[float], Rate, float, int]] = []
        allowed = True
        for key, rates in keys:
            windows = self._keys.get(key)
            if windows is None:
                windows = self._keys[key] = {}
            for rate in rates:
                window = windows.get(rate.window)
                if window is None:
                    window = windows[rate.window] = [0.0, 0]
                closes_at, used = window
                if closes_at <= now:
                    closes_at, used = now + rate.window, 0
                allowed = allowed and used < rate.limit
                plan.append((window, rate, closes_at, int(used)))
        usages: list[Usage] = []
        for window, rate, closes_at, used in plan:
            if allowed:
                window[0], window[1] = closes_at, used + 1
            usages.append(Usage(rate, used + 1 if allowed else used, closes_at - now))
        self._sweep(now)
        return Counted(allowed, _grouped(keys, usages))

    async def reset(self, key: str) -> None:
        self._keys.pop(key, None)

    async def clear(self) -> None:
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)

    def _sweep(self, now: float) -> None:
        keys = self._keys
        for _ in range(min(SWEEP_STEP, len(keys))):
            key, windows = keys.popitem(last=False)
            if any(closes_at > now for closes_at, _ in windows.values()):
                keys[key] = windows  # still counting: to the back of the line
        while len(keys) > self.max_keys:
            keys.popitem(last=False)
            self.evicted += 1


def _grouped(
    keys: Sequence[tuple[str, Sequence[Rate]]], usages: list[Usage]
) -> tuple[tuple[Usage, ...], ...]:
    """`usages` (flat, in order) split back per key."""
    grouped, start = [], 0
    for _, rates in keys:
        grouped.append(tuple(usages[start : start + len(rates)]))
        start += len(rates)
    return tuple(grouped)
