"""The outermost layer when tracing is on: OpenTelemetry's ASGI middleware, built once the
app's lifespan has made its tracer provider, with the server span named by route template.
Not for: deciding what to trace (the settings) or exporting (the provider).

Why not FastAPI's native `FastAPI(telemetry=...)` (0.165, kept all off in `create_app`): it
takes its provider when the app is constructed, or uses the process-global one, while the kit
builds a provider per app in the lifespan and flushes it there (the global can be set once
per process: apps and tests would share one); it names the span only from the router's match,
so answers given before routing (front-cache hits) would be a bare `GET`, where the kit's
`route_template` names them; and on the same app and provider it cost more CPU per sampled
request (scripts/micro/tracing.py; the figures are in BENCHMARKS.md).
It does add spans for dependency resolution and serialization, which this one lacks.
"""

from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware, asgi_getter
from opentelemetry.instrumentation.asgi.version import __version__ as asgi_instrumentation_version
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util.http import sanitize_method
from opentelemetry.util.types import Attributes

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
        span = trace.get_current_span()  # the (sampled) server span this request just opened
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


def drop_query(attributes: dict[str, Any]) -> None:
    """Leaves the query string out of the request's attributes, in place: a query can carry
    what must not leave the process (a token in a link, an e-mail in a search), and the library
    masks only a few cloud-signature parameters. Spans keep the path, as the access log keeps
    the route template. In place because the library sets the same dict on the span again
    after `start_span` (its `for key, value in attributes.items()`); a test guards it."""
    attributes.pop("url.query", None)
    url = attributes.get("http.url")
    if isinstance(url, str):
        attributes["http.url"] = url.split("?", 1)[0]


class _HandOverTracer(trace.Tracer):
    """Gives OpenTelemetry's middleware the server span TracingMiddleware has already started
    (and so already sampled) instead of starting a second one; any other span it starts is
    started as usual."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        span = _started.get()
        if span is None:
            return self._tracer.start_span(
                name, context, kind, attributes, links, start_time, record_exception,
                set_status_on_exception,
            )  # fmt: skip
        _started.set(None)
        if isinstance(attributes, dict):
            drop_query(attributes)
        if attributes:
            span.set_attributes(attributes)
        return span

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer.start_as_current_span(*args, **kwargs)


# The sampled server span, from TracingMiddleware to the library's start_span call (same task).
_started: ContextVar[trace.Span | None] = ContextVar("apiforge_server_span", default=None)


class TracingMiddleware:
    """Starlette builds the middleware stack before the lifespan runs, so the OpenTelemetry
    layer cannot be given the provider then: it is built on the first request after start-up
    (and again if a later start-up made a new provider). Without a provider (before start-up,
    after shutdown) requests pass straight through.

    The sampling decision is taken here, first: OpenTelemetry's middleware collects the span's
    attributes (a dozen header lookups) before its span is even created, some 100-150 µs of
    CPU per request (scripts/micro/tracing.py), which an unsampled request (most of them, at
    the default ratio) would pay for nothing. An unsampled request runs under its
    non-recording span alone, which is all that propagation (outbound `traceparent`) and the
    log lines' trace ID need; a sampled one is handed to the library with its span."""

    def __init__(self, app: ASGIApp, *, tracing: "Tracing", untraced: tuple[str, ...] = ()) -> None:
        self.app = app
        self.tracing = tracing
        # Path prefixes left out (probes, the metrics scrape): a trace every few seconds per
        # pod that says nothing, and the layer's cost on each.
        self.untraced = untraced
        self._named = ServerSpanNaming(app)
        self._traced: ASGIApp = app
        self._tracer: trace.Tracer = trace.NoOpTracer()
        self._built_for: TracerProvider | None = None

    def _build(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer(
            "opentelemetry.instrumentation.asgi", asgi_instrumentation_version
        )
        self._traced = OpenTelemetryMiddleware(
            self._named,
            tracer=_HandOverTracer(self._tracer),
            # Prometheus (kit.metrics) owns the request metrics; no second set from OTel.
            meter_provider=NoOpMeterProvider(),
            default_span_details=_span_details,
            # A span per ASGI message is noise in a trace and costs on every chunk.
            exclude_spans=["receive", "send"],
        )
        self._built_for = provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self.tracing.provider
        # WebSockets (none in the kit) and the lifespan are not traced.
        if provider is None or scope["type"] != "http" or scope["path"].startswith(self.untraced):
            await self.app(scope, receive, send)
            return
        if provider is not self._built_for:
            self._build(provider)
        # The same extraction the library does: a `traceparent` header, if any, is the parent.
        getter: Getter[Any] = asgi_getter
        parent = propagate.extract(scope, getter=getter)
        span = self._tracer.start_span(span_method(scope), parent, trace.SpanKind.SERVER)
        if span.is_recording():
            handing_over = _started.set(span)
            try:
                await self._traced(scope, receive, send)
            finally:
                _started.reset(handing_over)
            return
        attached = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(attached)
