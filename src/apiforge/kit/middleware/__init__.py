"""The middleware stack, declared once. All pure ASGI (no BaseHTTPMiddleware: it copies
bodies and breaks contextvars). Outermost first (with tracing on, `create_app` adds
kit.tracing's layer outside all of these, so its server span covers them):

1. RequestIDMiddleware: every later layer, log line and error answer sees the ID.
2. RequestTelemetryMiddleware: times the request once for the access log and the metrics;
   outside everything that can answer (errors, limits, cache hits), so each answer is counted.
2a. TrustedHostMiddleware (when `settings.trusted_hosts` names any): refuses other hosts.
2b. CORSMiddleware (Starlette's, when `settings.cors.allow_origins` names any): answers
   preflights, and its headers reach every answer, errors included.
3. SecurityHeadersMiddleware: outside the error boundary, so 500s carry the headers too.
3a. ProfilingMiddleware (when `settings.profiling_enabled`): answers an admin's flagged
   request with its profile; outside the error boundary, so a failing request's comes back too.
4. ErrorBoundaryMiddleware: an unhandled exception becomes a 500 carrying that ID.
5. BodyLimitMiddleware: refuses oversized URLs, headers and bodies before any parsing.
6. FrontCacheMiddleware (when the service names GET prefixes): serves cached answers before
   routing; outside GZip, so a hit is sent as stored.
6a. RateLimitHeadersMiddleware (when rate limits are on): adds the `RateLimit` headers of the
   limits decided for a request (by its dependencies, after routing) to whatever answer it
   gets. Inside the front cache on purpose: a hit is never limited, since refusing a cached
   read costs about what serving it does, so limits guard what reaches the routes (the
   database, argon2, writes) and a hit pays nothing for them.
7. GZipMiddleware: innermost, so it sees exactly what the app sent (its streaming included)
   and nothing else: the layers outside only add headers, and their own answers (413, 500)
   are small problem bodies below its threshold anyway.
"""

from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from apiforge.kit.asgi import Scope
from apiforge.kit.cache.front import FrontCache, FrontCacheMiddleware
from apiforge.kit.cache.stats import CacheStats
from apiforge.kit.middleware.body_limit import BodyLimitMiddleware
from apiforge.kit.middleware.error_boundary import ErrorBoundaryMiddleware
from apiforge.kit.middleware.gzip import GZipMiddleware
from apiforge.kit.middleware.profiling import ProfilingMiddleware
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.middleware.security_headers import SecurityHeadersMiddleware
from apiforge.kit.middleware.telemetry import RequestObserver, RequestTelemetryMiddleware
from apiforge.kit.middleware.trusted_host import TrustedHostMiddleware
from apiforge.kit.ratelimit import RateLimitHeadersMiddleware
from apiforge.kit.settings import Environment, Settings

# The docs pages and their assets (kit.docs): they get the docs' Content-Security-Policy.
DOCS_PREFIXES = ("/docs", "/redoc")
# What a browser client may send and read across origins.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "Idempotency-Key",
    "X-Request-ID",
    "If-None-Match",
]
CORS_EXPOSED_HEADERS = [
    "X-Request-ID",
    "ETag",
    "Retry-After",
    "Idempotent-Replayed",
    "RateLimit",
    "RateLimit-Policy",
]


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    body_limits: Mapping[str, int] | None = None,
    front_cache: FrontCache | None = None,
    observers: Sequence[RequestObserver] = (),
    in_flight: dict[int, Scope] | None = None,
    front_stats: CacheStats | None = None,
    rate_limit_headers: bool = False,
) -> None:
    """`body_limits`: exact paths allowed a body size other than `settings.max_body_bytes`.
    `in_flight` and `front_stats` are filled by the telemetry and front-cache layers.
    `rate_limit_headers`: add the layer writing rate-limit headers (limits are on)."""
    # add_middleware wraps: the last added is the outermost, so add innermost first.
    app.add_middleware(GZipMiddleware)
    if rate_limit_headers:
        app.add_middleware(RateLimitHeadersMiddleware)
    if front_cache is not None:
        app.add_middleware(
            FrontCacheMiddleware,
            prefixes=front_cache.prefixes,
            public_cache_control=front_cache.public_cache_control,
            stats=front_stats,
        )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides=body_limits,
        max_header_bytes=settings.max_header_bytes,
        max_url_bytes=settings.max_url_bytes,
        body_seconds=settings.body_read_timeout_seconds,
    )
    app.add_middleware(ErrorBoundaryMiddleware)
    if settings.profiling_enabled:
        app.add_middleware(ProfilingMiddleware, admin_role=settings.profiling.admin_role)
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.environment is Environment.PRODUCTION,
        docs_prefixes=DOCS_PREFIXES if settings.docs_enabled else (),
    )
    if settings.cors.allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.allow_origins,
            allow_credentials=settings.cors.allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=settings.cors.max_age_seconds,
        )
    if settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    if observers:
        app.add_middleware(RequestTelemetryMiddleware, observers=observers, in_flight=in_flight)
    app.add_middleware(RequestIDMiddleware)


__all__ = [
    "BodyLimitMiddleware",
    "ErrorBoundaryMiddleware",
    "GZipMiddleware",
    "ProfilingMiddleware",
    "RateLimitHeadersMiddleware",
    "RequestIDMiddleware",
    "RequestTelemetryMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
    "install_middleware",
]
