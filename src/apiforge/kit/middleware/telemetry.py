"""Times every HTTP request once and hands the outcome to its observers (the access log, the
metrics): one wrapper around `send` serves them all, instead of one middleware layer each.
Not for: formatting or storing anything (the observers do).

The route is reported by its template (`/api/products/{product_id}`), never the raw path, so
log fields and metric labels stay bounded; a request no route matched reports `UNMATCHED`.
"""

from collections.abc import Sequence
from time import perf_counter
from typing import Protocol

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.route_template import ROUTE_TEMPLATE_STATE, UNMATCHED, route_template

__all__ = [
    "ROUTE_TEMPLATE_STATE",
    "UNMATCHED",
    "RequestObserver",
    "RequestTelemetryMiddleware",
    "route_template",
]


class RequestObserver(Protocol):
    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        """Called once per HTTP request after the last byte was sent (or the app failed).
        Runs on the request path: it must not block or raise."""


class RequestTelemetryMiddleware:
    """`in_flight` maps each running request to its scope, for the loop-lag monitor (which
    names what was running when the loop stalled) and the in-progress gauge; pass the dict they
    read (the middleware itself is built lazily by Starlette, out of their reach)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        observers: Sequence[RequestObserver],
        in_flight: dict[int, Scope] | None = None,
    ) -> None:
        self.app = app
        self.observers = tuple(observers)
        self.in_flight: dict[int, Scope] = {} if in_flight is None else in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        status = 500  # what the client gets if the app raises before starting a response

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        key = id(scope)
        self.in_flight[key] = scope
        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            del self.in_flight[key]
            duration = perf_counter() - start
            for observer in self.observers:
                observer.request_finished(scope, status, duration)
