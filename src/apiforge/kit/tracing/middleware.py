"""The outermost layer when tracing is on: OpenTelemetry's ASGI middleware, built once the
app's lifespan has made its tracer provider, with the server span named by route template.
Not for: deciding what to trace (the settings) or exporting (the provider).

Why not FastAPI's native `FastAPI(telemetry=...)` (0.165, kept all off in `create_app`): it
takes its provider when the app is constructed, or uses the process-global one, while the kit
builds a provider per app in the lifespan and flushes it there (the global can be set once
per process: apps and tests would share one); it names the span only from the router's match,
so answers given before routing (front-cache hits) would be a bare `GET`, where the kit's
`route_template` names them; and it checks the global providers on every request even when
off. It does add spans for dependency resolution and serialization, which this one lacks.
"""

from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util.http import sanitize_method

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.middleware.telemetry import UNMATCHED, route_template

if TYPE_CHECKING:
    from apiforge.kit.tracing.runtime import Tracing

REQUEST_ID_ATTRIBUTE = "apiforge.request_id"


def span_method(scope: Scope) -> str:
    method = sanitize_method(str(scope.get("method", "")).strip())
    return "HTTP" if method == "_OTHER" else method


def _span_details(scope: Scope) -> tuple[str, dict[str, str]]:
    # The span is opened before routing, when only the raw path is known: naming it after
    # the path (the library's default) would make one span name per product ID. It gets
    # the method now and the route template once routing has matched.
    return span_method(scope), {}


class ServerSpanNaming:
    """Just inside OpenTelemetry's middleware: names the server span `GET /api/items/{item_id}`
    (the kit's `route_template`, which also covers answers pinned before routing, such as
    front-cache hits) and tags it with the request ID that the request-ID layer, further in,
    has put in the scope. Done when the response starts: the library ends the span as soon as
    the last body chunk is sent, before control comes back here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()  # the server span this request just opened
        if not span.is_recording():  # not sampled: nothing to name
            await self.app(scope, receive, send)
            return
        named = False

        async def send_naming_span(message: Message) -> None:
            nonlocal named
            if message["type"] == "http.response.start":
                _name(span, scope)
                named = True
            await send(message)

        try:
            await self.app(scope, receive, send_naming_span)
        finally:
            if not named:  # the app failed before answering: the span is still open
                _name(span, scope)


def _name(span: trace.Span, scope: Scope) -> None:
    template = route_template(scope)
    if template != UNMATCHED:
        span.update_name(f"{span_method(scope)} {template}")
        span.set_attribute("http.route", template)
    request_id = scope.get("state", {}).get("request_id")
    if request_id is not None:
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


class TracingMiddleware:
    """Starlette builds the middleware stack before the lifespan runs, so the OpenTelemetry
    layer cannot be given the provider then: it is built on the first request after start-up
    (and again if a later start-up made a new provider). Without a provider (before start-up,
    after shutdown) requests pass straight through."""

    def __init__(self, app: ASGIApp, *, tracing: "Tracing") -> None:
        self.app = app
        self.tracing = tracing
        self._named = ServerSpanNaming(app)
        self._traced: ASGIApp = app
        self._built_for: TracerProvider | None = None

    def _build(self, provider: TracerProvider) -> ASGIApp:
        traced: ASGIApp = OpenTelemetryMiddleware(
            self._named,
            tracer_provider=provider,
            # Prometheus (kit.metrics) owns the request metrics; no second set from OTel.
            meter_provider=NoOpMeterProvider(),
            default_span_details=_span_details,
            # A span per ASGI message is noise in a trace and costs on every chunk.
            exclude_spans=["receive", "send"],
        )
        return traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self.tracing.provider
        # WebSockets (none in the kit) and the lifespan are not traced.
        if provider is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if provider is not self._built_for:
            self._traced = self._build(provider)
            self._built_for = provider
        await self._traced(scope, receive, send)
