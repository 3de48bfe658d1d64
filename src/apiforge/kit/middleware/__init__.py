"""The middleware stack, declared once. All pure ASGI (no BaseHTTPMiddleware: it copies
bodies and breaks contextvars). Outermost first:

1. RequestIDMiddleware: every later layer, log line and error answer sees the ID.
2. SecurityHeadersMiddleware: outside the error boundary, so 500s carry the headers too.
3. ServerErrorMiddleware: an unhandled exception becomes a 500 carrying that ID.
4. BodyLimitMiddleware: refuses oversized bodies before any parsing.
5. FrontCacheMiddleware (when the service names GET prefixes): serves cached answers before
   routing; outside GZip, so a hit is sent as stored.
6. GZipMiddleware: innermost, so it sees exactly what the app sent (its streaming included)
   and nothing else: the layers outside only add headers, and their own answers (413, 500)
   are small problem bodies below its threshold anyway.
"""

from collections.abc import Mapping

from fastapi import FastAPI

from apiforge.kit.cache.front import FrontCache, FrontCacheMiddleware
from apiforge.kit.middleware.body_limit import BodyLimitMiddleware
from apiforge.kit.middleware.gzip import GZipMiddleware
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.middleware.security_headers import SecurityHeadersMiddleware
from apiforge.kit.middleware.server_errors import ServerErrorMiddleware
from apiforge.kit.settings import Environment, Settings


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    body_limits: Mapping[str, int] | None = None,
    front_cache: FrontCache | None = None,
) -> None:
    """`body_limits`: exact paths allowed a body size other than `settings.max_body_bytes`."""
    # add_middleware wraps: the last added is the outermost, so add innermost first.
    app.add_middleware(GZipMiddleware)
    if front_cache is not None:
        app.add_middleware(
            FrontCacheMiddleware,
            prefixes=front_cache.prefixes,
            public_cache_control=front_cache.public_cache_control,
        )
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, overrides=body_limits
    )
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts=settings.environment is Environment.PRODUCTION
    )
    app.add_middleware(RequestIDMiddleware)


__all__ = [
    "BodyLimitMiddleware",
    "GZipMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "ServerErrorMiddleware",
    "install_middleware",
]
