"""The middleware stack, declared once. All pure ASGI (no BaseHTTPMiddleware: it copies
bodies and breaks contextvars). Outermost first:

1. RequestIDMiddleware: every later layer, log line and error answer sees the ID.
2. SecurityHeadersMiddleware: outside the error boundary, so 500s carry the headers too.
3. ServerErrorMiddleware: an unhandled exception becomes a 500 carrying that ID.
4. BodyLimitMiddleware: refuses oversized bodies before any parsing.
"""

from fastapi import FastAPI

from apiforge.kit.middleware.body_limit import BodyLimitMiddleware
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.middleware.security_headers import SecurityHeadersMiddleware
from apiforge.kit.middleware.server_errors import ServerErrorMiddleware
from apiforge.kit.settings import Environment, Settings


def install_middleware(app: FastAPI, settings: Settings) -> None:
    # add_middleware wraps: the last added is the outermost, so add innermost first.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts=settings.environment is Environment.PRODUCTION
    )
    app.add_middleware(RequestIDMiddleware)


__all__ = [
    "BodyLimitMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "ServerErrorMiddleware",
    "install_middleware",
]
