"""One app's tracing at run time: the lifespan resource that builds the tracer provider,
instruments the app's clients, and flushes on exit; and the trace fields of log lines.
Not for: the request layer (`middleware.py`) or the exporter set-up (`provider.py`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from apiforge.kit.settings import TracingSettings
from apiforge.kit.state import AppState
from apiforge.kit.tracing.instruments import instrument_engine, instrument_redis, uninstrument_redis
from apiforge.kit.tracing.provider import build_tracer_provider


def trace_log_context() -> dict[str, str] | None:
    """The fields a log line gets inside a span. Present for unsampled requests too: the trace
    ID still ties together the lines of every service the request crossed (though the tracing
    backend holds no trace for it)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }


class Tracing:
    """`run` is the app's lifespan resource: it builds the tracer provider, instruments the
    engine and the Redis client, and on exit flushes the spans still queued (in a thread: the
    export may wait on the collector) before the pools close. `provider` is read by
    TracingMiddleware on each request."""

    def __init__(self, settings: TracingSettings, *, version: str) -> None:
        self.settings = settings
        self.version = version
        self.provider: TracerProvider | None = None

    @asynccontextmanager
    async def run(self, state: AppState) -> AsyncIterator[None]:
        provider = build_tracer_provider(self.settings, version=self.version)
        instrument_engine(state.database.engine, provider)
        if state.redis is not None:
            instrument_redis(state.redis, provider)
        state.tracer_provider = provider
        self.provider = provider
        try:
            yield
        finally:
            self.provider = None
            state.tracer_provider = None
            if state.redis is not None:
                uninstrument_redis(state.redis)
            await anyio.to_thread.run_sync(provider.shutdown)
