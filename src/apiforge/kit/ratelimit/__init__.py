"""apiforge.kit.ratelimit: exact rate limits. Policies are data (`kit.rates`, adjusted by
settings); a decision counts fixed windows per key in one atomic step, in Redis (one Lua
script, shared by every process) or in process; `rate_limit(...)` enforces policies on routes,
`RequestThrottle` lets a service count on its own terms; the answers carry `RateLimit-Policy`,
`RateLimit` and, when refused, `Retry-After`. Not for: limiting bodies or connections.

    policy (kit.rates) -> rate_limit / Throttle -> RateLimiter -> RateLimitBackend
                                                    (memory | Redis, on_failure when down)
"""

from apiforge.kit.ratelimit.dependencies import RequestThrottle, rate_limit, request_throttle
from apiforge.kit.ratelimit.headers import RateLimitHeadersMiddleware, rate_limit_headers
from apiforge.kit.ratelimit.limiter import Decision, RateLimiter
from apiforge.kit.ratelimit.memory import MemoryRateLimitBackend
from apiforge.kit.ratelimit.protocol import (
    BackendUnavailableError,
    Clock,
    Counted,
    RateLimitBackend,
    Usage,
)
from apiforge.kit.ratelimit.redis_backend import RedisRateLimitBackend
from apiforge.kit.ratelimit.throttle import RateLimitUnavailableError, Throttle

__all__ = [
    "BackendUnavailableError",
    "Clock",
    "Counted",
    "Decision",
    "MemoryRateLimitBackend",
    "RateLimitBackend",
    "RateLimitHeadersMiddleware",
    "RateLimitUnavailableError",
    "RateLimiter",
    "RedisRateLimitBackend",
    "RequestThrottle",
    "Throttle",
    "Usage",
    "rate_limit",
    "rate_limit_headers",
    "request_throttle",
]
