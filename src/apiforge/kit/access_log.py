"""The access log: one line per HTTP request, written by the telemetry middleware's observer.
It replaces Uvicorn's (which `apiforge serve` turns off). Not for: application log lines.

Cost: a few µs per request (scripts/micro/access_log.py): the fields are fixed and hold no free
text, so the line skips the secret scan, and the record skips the caller lookup.
"""

import logging

from apiforge.kit.asgi import Scope
from apiforge.kit.logs import log_fields
from apiforge.kit.middleware.telemetry import route_template

ACCESS_LOGGER = "apiforge.access"
EVENT = "request"


class AccessLog:
    """Fields: method, route (the template, never the raw path), status, duration_ms, client
    (address) and user_id (set by the auth dependency when the request was authenticated)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        state = scope.get("state") or {}
        fields = {
            "method": scope["method"],
            "route": route_template(scope),
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "client": client[0] if client else None,
            "user_id": state.get("user_id"),
        }
        log_fields(self.logger, logging.INFO, EVENT, fields, trusted=True)
