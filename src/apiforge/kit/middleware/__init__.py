"""The middleware stack, declared once. All pure ASGI (no BaseHTTPMiddleware: it copies
bodies and breaks contextvars). Outermost first:

1. RequestIDMiddleware: every later layer, log line and error answer sees the ID.
2. SecurityHeadersMiddleware: outside the error boundary, so 500s carry the headers too.
3. ServerErrorMiddleware: an unhandled exception becomes a 500 carrying that ID.
4. BodyLimitMiddleware: refuses oversized bodies before any parsing.
5. GZipMiddleware: innermost, so it sees exactly what the app sent (its streaming included)
   and nothing else: the layers outside only add headers, and their own answers (413, 500)
   are small problem bodies below its threshold anyway.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from apiforge.kit.middleware.body_limit import BodyLimitMiddleware
from apiforge.kit.middleware.gzip import GZipMiddleware
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.middleware.security_headers import SecurityHeadersMiddleware
from apiforge.kit.middleware.server_errors import ServerErrorMiddleware
from apiforge.kit.settings import Environment, Settings


def install_middleware(
    app: FastAPI, settings: Settings, *, body_limits: Mapping[str, int] | None = None
) -> None:
    """`body_limits`: exact paths allowed a body size other than `settings.max_body_bytes`."""
    # add_middleware wraps: the last added is the outermost, so add innermost first.
    app.add_middleware(GZipMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, overrides=body_limits
    )
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts=settings.environment is Environment.PRODUCTION
    )
    app.add_middleware(RequestIDMiddleware)


def allow_body_sizes(app: FastAPI, limits: Mapping[str, int]) -> None:
    """Give exact paths their own body-size limit (a bulk import needs more than the global
    1 MiB) on an app built by `create_app`. Call before the app serves: Starlette builds the
    middleware stack on the first request."""
    if app.middleware_stack is not None:
        raise RuntimeError("the middleware stack is already built")
    for index, entry in enumerate(app.user_middleware):
        middleware_class: object = entry.cls
        if middleware_class is BodyLimitMiddleware:
            kwargs: dict[str, Any] = dict(entry.kwargs)
            kwargs["overrides"] = {**(kwargs.get("overrides") or {}), **limits}
            app.user_middleware[index] = Middleware(BodyLimitMiddleware, **kwargs)
            return
    raise RuntimeError("the app has no BodyLimitMiddleware")


__all__ = [
    "BodyLimitMiddleware",
    "GZipMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "ServerErrorMiddleware",
    "allow_body_sizes",
    "install_middleware",
]
