"""OpenTelemetry tracing, off by default (`APIFORGE_TRACING__ENABLED`, the `tracing` extra):
requests, SQL, Redis and outbound HTTP become spans exported over OTLP/HTTP, and log lines
carry the trace ID. This module imports no OpenTelemetry itself: `create_app` calls
`install_tracing` only when tracing is on, so with it off no OpenTelemetry SDK or
instrumentation is loaded and the request path pays nothing.
Not for: metrics (Prometheus, `kit.metrics`) or the process-global OpenTelemetry providers.

An outbound client built by the service (in a startup hook, after the tracing has started)
is traced with `trace_http_client(client, state)`; the app's provider is `tracer_provider(state)`,
for spans of the service's own::

    provider = tracer_provider(app_state(request.app))
    if provider is not None:
        with provider.get_tracer("shop.orders").start_as_current_span("price order"): ...
"""

from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI

from apiforge.kit.health import health_router
from apiforge.kit.logs import register_log_context
from apiforge.kit.settings import Settings
from apiforge.kit.state import AppState, LifespanResource

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def tracer_provider(state: AppState) -> "TracerProvider | None":
    """The running app's provider; None when tracing is off."""
    return state.tracer_provider


def trace_http_client(client: httpx.AsyncClient, state: AppState) -> None:
    """Spans for `client`'s requests, each carrying `traceparent` so the called service
    continues the trace. Nothing when tracing is off."""
    provider = tracer_provider(state)
    if provider is not None:
        from apiforge.kit.tracing.instruments import instrument_http_client

        instrument_http_client(client, provider)


def install_tracing(app: FastAPI, settings: Settings, *, version: str) -> LifespanResource:
    """Adds the tracing layer as the outermost middleware (call it after every other
    `add_middleware`), so the server span covers every layer's work and every answer; returns
    the lifespan resource that runs the tracer provider. Health probes and the metrics scrape
    are not traced."""
    from apiforge.kit.tracing.middleware import TracingMiddleware
    from apiforge.kit.tracing.runtime import Tracing, trace_log_context

    # Process-wide and idempotent (the same function each time); outside a span it adds nothing.
    register_log_context(trace_log_context)
    tracing = Tracing(settings.tracing, version=version)
    app.add_middleware(
        TracingMiddleware,
        tracing=tracing,
        untraced=(f"{health_router.prefix}/", settings.metrics.path),
    )
    return tracing.run


__all__ = ["install_tracing", "trace_http_client", "tracer_provider"]
