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

Answers served from the front cache (below 400) are sampled per route and status: at most
`hit_lines_per_second` lines each, a line standing for the hits since the previous one
(`"represents": n`, n > 1), so the lines still add up to every hit, and the metrics count
each one. Those hits are the cheapest requests there are (~10-20 us of CPU in the app), and
a line each was the largest part of what observability cost them (BENCHMARKS.md, issues 4
and 12); every other answer gets its line.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from apiforge.kit.asgi import Scope
from apiforge.kit.logs import JSONFormatter, KitLogHandler, json_line, log_fields
from apiforge.kit.middleware.telemetry import route_template
from apiforge.kit.route_template import CACHE_HIT_STATE

ACCESS_LOGGER = "apiforge.access"
EVENT = "request"


class AccessLog:
    """Fields: method, route (the template, never the raw path), status, duration_ms, client
    (address) and user_id (set by the auth dependency when the request was authenticated);
    `represents` on a sampled cache hit's line. `hit_lines_per_second` 0 writes every line."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        hit_lines_per_second: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._hit_interval = 1 / hit_lines_per_second if hit_lines_per_second > 0 else 0.0
        self._clock = clock
        # (route, status) -> (when its last line was written, hits not written since)
        self._hits: dict[tuple[str, int], tuple[float, int]] = {}
        self._pending: list[str] = []
        self._pending_handler: KitLogHandler | None = None
        self._scheduled: asyncio.Handle | None = None

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        state = scope.get("state") or {}
        route = route_template(scope)
        represents = 1
        if self._hit_interval and status < 400 and state.get(CACHE_HIT_STATE):
            represents = self._sampled_hit(route, status)
            if not represents:
                return
        client = scope.get("client")
        fields: dict[str, object] = {
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "client": client[0] if client else None,
            "user_id": state.get("user_id"),
        }
        if represents > 1:
            fields["represents"] = represents
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

    def _sampled_hit(self, route: str, status: int) -> int:
        """How many hits this one's line stands for (itself and those not written since the
        last), or 0: no line, counted for the next."""
        now = self._clock()
        written_at, unwritten = self._hits.get((route, status), (-self._hit_interval, 0))
        if now - written_at < self._hit_interval:
            self._hits[(route, status)] = (written_at, unwritten + 1)
            return 0
        self._hits[(route, status)] = (now, 0)
        return unwritten + 1

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
