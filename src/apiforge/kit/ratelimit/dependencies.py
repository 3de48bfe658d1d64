"""FastAPI dependencies for rate limits: `rate_limit(*policies)` on a route or router, and
`RequestThrottle` for code that decides itself when and what to count (a login counts per
account and address). Not for: policies (declare them in the service's code, as data)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from apiforge.kit.identity.dependencies import CurrentPrincipal
from apiforge.kit.ratelimit.throttle import Throttle
from apiforge.kit.rates import LimitKey, RateLimitPolicy
from apiforge.kit.state import app_state

# Set on the dependencies `rate_limit` builds: the OpenAPI document lists their 429 (and 503).
POLICIES_ATTRIBUTE = "__apiforge_rate_limits__"


async def request_throttle(request: Request) -> Throttle:
    """The dependency behind `RequestThrottle`."""
    state = app_state(request.app)
    return Throttle(state.rate_limiter, request.scope, state.settings.proxy)


RequestThrottle = Annotated[Throttle, Depends(request_throttle)]
RequestThrottle.__doc__ = """The app's rate limiter bound to this request (a `Throttle`): pass
it to a service that counts on its own terms, as the shop's login counts per account and
address and forgets the count on success. Its decisions reach the answer's headers."""


def rate_limit(*policies: RateLimitPolicy) -> Any:
    """A dependency enforcing `policies` on a route or a router, each per its own key:
    `@router.post(..., dependencies=[rate_limit(WRITES, ORG_WRITES)])`. A policy on the
    principal, its API key or its organization authenticates the request (the route's own
    `CurrentPrincipal` is resolved once); one on the client address works anonymously; a
    `LimitKey.CUSTOM` policy is the service's own to count (`RequestThrottle`). Refusals are
    429 `ratelimit.exceeded` (503 `ratelimit.unavailable` when a policy failing closed cannot
    be decided), with `Retry-After`; the OpenAPI document lists them."""
    chosen = tuple(policies)
    if any(policy.key is LimitKey.CUSTOM for policy in chosen):
        raise ValueError("a custom-keyed policy is counted by the service (RequestThrottle)")

    async def for_principal(throttle: RequestThrottle, principal: CurrentPrincipal) -> None:
        await throttle.enforce_policies(chosen, principal)

    async def for_anyone(throttle: RequestThrottle) -> None:
        await throttle.enforce_policies(chosen, None)

    needs_principal = any(policy.key.needs_principal for policy in chosen)
    limited: Callable[..., Awaitable[None]] = for_principal if needs_principal else for_anyone
    setattr(limited, POLICIES_ATTRIBUTE, chosen)
    return Depends(limited)
