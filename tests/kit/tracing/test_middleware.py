"""TracingMiddleware on raw ASGI apps: passes through without a provider, names spans from a
template pinned before routing, still names a span when the app fails before answering, and
follows a new provider after a restart."""

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from apiforge.kit.asgi import Receive, Scope, Send
from apiforge.kit.middleware.telemetry import ROUTE_TEMPLATE_STATE
from apiforge.kit.settings import TracingSettings
from apiforge.kit.tracing.middleware import TracingMiddleware, _HandOverTracer
from apiforge.kit.tracing.runtime import Tracing
from tests.kit.apps import call_asgi, http_scope, responder


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _tracing(provider: TracerProvider | None) -> Tracing:
    tracing = Tracing(TracingSettings(enabled=True), version="1")
    tracing.provider = provider
    return tracing


async def _pin(scope: Scope) -> None:
    scope["state"] = {ROUTE_TEMPLATE_STATE: "/api/products/{product_id}", "request_id": "r-1"}


async def test_without_a_provider_requests_pass_through() -> None:
    middleware = TracingMiddleware(responder(body=b"plain"), tracing=_tracing(None))
    exchange = await call_asgi(middleware, http_scope())
    assert exchange.status == 200
    assert exchange.body == b"plain"


async def test_a_template_pinned_before_routing_names_the_span() -> None:
    provider, exporter = _provider()
    middleware = TracingMiddleware(responder(before=_pin), tracing=_tracing(provider))
    await call_asgi(middleware, http_scope(path="/api/products/7"))
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /api/products/{product_id}"
    assert (span.attributes or {})["apiforge.request_id"] == "r-1"


async def test_a_failure_before_answering_still_names_the_span() -> None:
    provider, exporter = _provider()

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        await _pin(scope)
        raise RuntimeError("boom")

    middleware = TracingMiddleware(failing, tracing=_tracing(provider))
    with pytest.raises(RuntimeError, match="boom"):
        await call_asgi(middleware, http_scope(method="POST", path="/api/products/7"))
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /api/products/{product_id}"
    assert span.status.status_code is StatusCode.ERROR


async def test_a_new_provider_after_a_restart_is_followed() -> None:
    first, first_spans = _provider()
    tracing = _tracing(first)
    middleware = TracingMiddleware(responder(), tracing=tracing)
    await call_asgi(middleware, http_scope())
    second, second_spans = _provider()
    tracing.provider = second
    await call_asgi(middleware, http_scope())
    assert len(first_spans.get_finished_spans()) == 1
    assert len(second_spans.get_finished_spans()) == 1


async def test_lifespan_scopes_are_not_traced() -> None:
    provider, exporter = _provider()
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await TracingMiddleware(app, tracing=_tracing(provider))({"type": "lifespan"}, None, None)  # type: ignore[arg-type]  # never called
    assert seen == ["lifespan"]
    assert exporter.get_finished_spans() == ()


def test_the_hand_over_tracer_starts_other_spans_as_usual() -> None:
    provider, exporter = _provider()
    tracer = _HandOverTracer(provider.get_tracer("test"))
    tracer.start_span("plain").end()
    with tracer.start_as_current_span("current"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["plain", "current"]
