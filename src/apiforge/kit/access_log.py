"""The access log: one line per HTTP request, written by the telemetry middleware's observer.
It replaces Uvicorn's (which `apiforge serve` turns off). Not for: application log lines.

Under the production pipeline (the kit's one JSON handler on the root logger) the line skips
`logging` altogether: it is rendered straight to JSON and written in batches, like nginx's
`access_log ... buffer= flush=`: the `logging` path costs a record, a handler lock and one
write syscall per line (figures: BENCHMARKS.md, "Hot-path decisions"). A batch is written at
the end of the event-loop iteration that produced it (`call_soon`): under load one iteration
finishes many requests, so
one write carries many lines, and no line waits longer than that iteration; only a process
killed mid-iteration loses its batch. Any other set-up (console format, an extra handler such
as pytest's caplog) takes the `logging` path, unchanged.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from apiforge.kit.asgi import Scope
from apiforge.kit.logs import JSONFormatter, KitLogHandler, json_line, log_fields
from apiforge.kit.middleware.telemetry import route_template

ACCESS_LOGGER = "apiforge.access"
EVENT = "request"


class AccessLog:
    """Fields: method, route (the template, never the raw path), status, duration_ms, client
    (address) and user_id (set by the auth dependency when the request was authenticated)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._pending: list[str] = []
        self._pending_handler: KitLogHandler | None = None
        self._scheduled: asyncio.Handle | None = None

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
        handler = self._batch_handler()
        if handler is None:
            log_fields(self.logger, logging.INFO, EVENT, fields, trusted=True)
            return
        if handler is not self._pending_handler:
            self.flush()
            self._pending_handler = handler
        self._pending.append(json_line(self.logger.name, EVENT, fields))
        if self._scheduled is None:
            self._scheduled = asyncio.get_running_loop().call_soon(self.flush)

    def _batch_handler(self) -> KitLogHandler | None:
        """The kit's JSON handler when it is the only place the line would go, else None."""
        handlers = logging.root.handlers
        if len(handlers) != 1 or self.logger.handlers or self.logger.filters:
            return None
        handler = handlers[0]
        if type(handler) is not KitLogHandler or type(handler.formatter) is not JSONFormatter:
            return None
        return handler

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        handler, lines = self._pending_handler, self._pending
        if handler is None or not lines:
            return
        self._pending = []
        handler.write_lines(lines)

    @asynccontextmanager
    async def running(self, _state: Any) -> AsyncIterator[None]:
        """The `LifespanResource`: what is still buffered is written at shutdown."""
        try:
            yield
        finally:
            self.flush()
