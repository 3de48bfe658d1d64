"""The app's rate limiter: settings applied to the service's policies, `local` ones counted in
process and the rest in the shared backend, each policy's `on_failure` when Redis cannot
decide. Not for: HTTP (throttle.py makes a decision an answer)."""

import hashlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apiforge.kit.ratelimit.memory import MemoryRateLimitBackend
from apiforge.kit.ratelimit.protocol import (
    BackendUnavailableError,
    Clock,
    Counted,
    RateLimitBackend,
    Usage,
)
from apiforge.kit.ratelimit.redis_backend import RedisRateLimitBackend
from apiforge.kit.rates import OnFailure, Rate, RateLimitPolicy, RateLimitSettings

if TYPE_CHECKING:
    from apiforge.kit.state import AppState

Hit = tuple[RateLimitPolicy, str]
Answered = tuple[tuple[RateLimitPolicy, tuple[Usage, ...]], ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policies said about one request: `allowed`, each answering policy's windows
    (for the headers), the seconds until a refused request may retry, and `unavailable` when
    a policy that fails closed could not be decided."""

    allowed: bool
    usages: Answered = ()
    retry_after: float = 0.0
    unavailable: bool = False


ALLOWED = Decision(True)


class RateLimiter:
    """`decide([(policy, subject), ...])` counts one request against several policies at once
    (all or nothing per backend). `decisions` counts, per (policy, outcome), what each policy
    said: allowed, limited, failed_open, failed_closed, fallback_allowed, fallback_limited;
    the metrics sampler exports it. `clock` pins time (tests)."""

    def __init__(
        self,
        settings: RateLimitSettings,
        policies: Sequence[RateLimitPolicy] = (),
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        in_process = clock or time.monotonic
        self.local = MemoryRateLimitBackend(clock=in_process, max_keys=settings.max_local_keys)
        self.fallback = MemoryRateLimitBackend(clock=in_process, max_keys=settings.max_local_keys)
        self.shared: RateLimitBackend = self.local
        self.decisions: Counter[tuple[str, str]] = Counter()
        self._policies = {policy.name: self._in_force(policy) for policy in policies}

    def _in_force(self, declared: RateLimitPolicy) -> RateLimitPolicy:
        return declared.adjusted(self.settings.policies.get(declared.name))

    def policy(self, declared: RateLimitPolicy) -> RateLimitPolicy:
        """`declared` as the settings leave it."""
        found = self._policies.get(declared.name)
        if found is None:
            found = self._policies[declared.name] = self._in_force(declared)
        return found

    def key(self, policy: RateLimitPolicy, subject: str) -> str:
        """The counter's key: the subject hashed, so no address or email sits in Redis and
        every key has the same short length."""
        digest = hashlib.blake2b(subject.encode(), digest_size=12).hexdigest()
        return f"{self.settings.key_prefix}{policy.name}:{digest}"

    @asynccontextmanager
    async def running(self, state: "AppState") -> AsyncIterator[None]:
        """The `LifespanResource`: counts in the app's Redis while it runs, when it has one."""
        if state.redis is not None:
            self.shared = RedisRateLimitBackend(
                state.redis,
                prefix=self.settings.key_prefix,
                clock=self.clock,
                timeout=self.settings.timeout_seconds,
                retry_after=self.settings.retry_after_seconds,
            )
        state.rate_limiter = self
        try:
            yield
        finally:
            state.rate_limiter = None
            self.shared = self.local

    async def decide(self, hits: Sequence[Hit]) -> Decision:
        active = [(policy, s) for p, s in hits if (policy := self.policy(p)).enabled]
        local = [hit for hit in active if hit[0].local]
        shared = [hit for hit in active if not hit[0].local]
        answered: Answered = ()
        if local:
            counted = self.local.hit_now(self._keys(local))
            answered = self._record(local, counted, "")
            if not counted.allowed:
                return Decision(False, answered, counted.retry_after)
        if not shared:
            return Decision(True, answered)
        try:
            counted = await self.shared.hit(self._keys(shared))
        except BackendUnavailableError:
            return self._without_redis(shared, answered)
        answered += self._record(shared, counted, "")
        return Decision(counted.allowed, answered, counted.retry_after)

    async def forget(self, policy: RateLimitPolicy, subject: str) -> None:
        """Drop `subject`'s counts under `policy` (a failed call is ignored: the window
        closes on its own)."""
        policy = self.policy(policy)
        backend = self.local if policy.local else self.shared
        key = self.key(policy, subject)
        await self.fallback.reset(key)
        try:
            await backend.reset(key)
        except BackendUnavailableError:
            return

    async def clear(self) -> None:
        """Forget every count, in process and in Redis."""
        for backend in {id(b): b for b in (self.local, self.fallback, self.shared)}.values():
            await backend.clear()

    def _keys(self, hits: Sequence[Hit]) -> list[tuple[str, tuple[Rate, ...]]]:
        return [(self.key(policy, subject), policy.rates) for policy, subject in hits]

    def _record(self, hits: Sequence[Hit], counted: Counted, prefix: str) -> Answered:
        answered = tuple(zip((policy for policy, _ in hits), counted.usages, strict=True))
        for policy, usages in answered:
            limited = any(usage.full for usage in usages) and not counted.allowed
            self.decisions[policy.name, prefix + ("limited" if limited else "allowed")] += 1
        return answered

    def _without_redis(self, shared: Sequence[Hit], answered: Answered) -> Decision:
        """Each policy's `on_failure`: closed ones refuse (503), local ones count here."""
        closed = False
        for policy, _ in shared:
            if policy.on_failure is OnFailure.OPEN:
                self.decisions[policy.name, "failed_open"] += 1
            elif policy.on_failure is OnFailure.CLOSED:
                self.decisions[policy.name, "failed_closed"] += 1
                closed = True
        if closed:
            return Decision(False, answered, self.settings.retry_after_seconds, unavailable=True)
        fallback = [hit for hit in shared if hit[0].on_failure is OnFailure.LOCAL]
        if not fallback:
            return Decision(True, answered)
        counted = self.fallback.hit_now(self._keys(fallback))
        answered += self._record(fallback, counted, "fallback_")
        return Decision(counted.allowed, answered, counted.retry_after)
