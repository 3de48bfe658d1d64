"""The rate limiter bound to one request: the subjects (principal, API key, organization,
address), the decision recorded for the headers, the refusal raised. Not for: counting
(limiter.py) or writing headers (headers.py)."""

import math
from collections.abc import Iterable

from apiforge.kit.asgi import Scope
from apiforge.kit.auth.principal import Principal
from apiforge.kit.errors import RateLimitedError, ServiceUnavailableError
from apiforge.kit.proxies import ProxySettings, client_address, limit_key
from apiforge.kit.ratelimit.limiter import Decision, Hit, RateLimiter
from apiforge.kit.rates import LimitKey, RateLimitPolicy

# Where a request's decisions wait for the headers layer (in the ASGI scope's state).
DECISIONS_STATE = "apiforge.ratelimit"


class RateLimitUnavailableError(ServiceUnavailableError):
    """503: a policy that fails closed could not be decided (Redis does not answer)."""

    code = "ratelimit.unavailable"


def whole_seconds(value: float) -> int:
    """Seconds rounded up, at least 1: never earlier than the true reset, at most 1 s later."""
    return max(1, math.ceil(value))


class Throttle:
    """The app's rate limiter for one request (`RequestThrottle` in a route or dependency).
    `enforce((policy, subject), ...)` counts the request against each at once and raises
    `RateLimitedError` (429) or `RateLimitUnavailableError` (503); the headers follow on the
    answer, success or not. `client` is the client's address as it is counted (behind the
    trusted proxies; an IPv6 client's /64). With limits off, every call is a no-op."""

    def __init__(self, limiter: RateLimiter | None, scope: Scope, proxy: ProxySettings) -> None:
        self.limiter = limiter
        self.scope = scope
        self.proxy = proxy
        self._client: str | None = None

    @property
    def client(self) -> str:
        if self._client is None:
            self._client = limit_key(client_address(self.scope, self.proxy))
        return self._client

    def subject(self, policy: RateLimitPolicy, principal: Principal | None) -> str | None:
        """What `policy` counts this request under; None when it does not apply (an API-key
        policy for a user) or the service must say (`LimitKey.CUSTOM`)."""
        key = policy.key
        if key is LimitKey.CLIENT_IP:
            return self.client
        if principal is None or key is LimitKey.CUSTOM:
            return None
        if key is LimitKey.PRINCIPAL:
            return principal.subject
        if key is LimitKey.API_KEY:
            return principal.api_key_id
        return None if principal.tenant_id is None else str(principal.tenant_id)

    async def enforce_policies(
        self, policies: Iterable[RateLimitPolicy], principal: Principal | None = None
    ) -> None:
        """`enforce` with each policy's own subject, skipping those that do not apply."""
        hits = [(p, s) for p in policies if (s := self.subject(p, principal)) is not None]
        await self.enforce(*hits)

    async def enforce(self, *hits: Hit) -> None:
        if self.limiter is None or not hits:
            return
        decision = await self.limiter.decide(hits)
        if decision.usages or decision.retry_after:
            state = self.scope.setdefault("state", {})
            state.setdefault(DECISIONS_STATE, []).append(decision)
        if decision.unavailable:
            raise RateLimitUnavailableError(
                "Rate limits cannot be checked right now; try again in a moment."
            )
        if not decision.allowed:
            raise RateLimitedError(
                f"Too many requests; try again in {whole_seconds(decision.retry_after)} s."
            )

    async def forget(self, policy: RateLimitPolicy, subject: str) -> None:
        """Drop `subject`'s counts under `policy` (a successful login, its failures)."""
        if self.limiter is not None:
            await self.limiter.forget(policy, subject)


def recorded(scope: Scope) -> list[Decision]:
    """The decisions taken for this request so far."""
    state = scope.get("state")
    found: list[Decision] = state.get(DECISIONS_STATE, []) if state is not None else []
    return found
