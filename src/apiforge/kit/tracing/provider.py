"""Builds one app's OpenTelemetry `TracerProvider` from `settings.tracing`: service resource,
parent-based ratio sampling, and a batching exporter (OTLP over HTTP, or the console).
Not for: instrumenting anything (see `instruments.py`) or the process-global provider."""

import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from apiforge.kit.settings import TracingSettings

# Each export attempt (retries included) gives up after this long, so a collector that is
# down costs at most this much of the shutdown drain, never a hung worker.
EXPORT_TIMEOUT_SECONDS = 5.0


def build_exporter(settings: TracingSettings) -> SpanExporter:
    if settings.exporter == "console":
        # The stream of the moment, not the one bound when the library was imported.
        return ConsoleSpanExporter(service_name=settings.service_name, out=sys.stdout)
    return OTLPSpanExporter(
        endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/traces",
        timeout=EXPORT_TIMEOUT_SECONDS,
    )


def build_tracer_provider(settings: TracingSettings, *, version: str) -> TracerProvider:
    """Not registered as the global provider (that can be set once per process): every
    instrumentation is handed this one, so each app (each test) has its own."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.service_name, SERVICE_VERSION: version}),
        # A sampled parent (an incoming traceparent) is always followed; new traces are kept
        # at `sample_ratio`. Decided once at the root, so a trace is never half-recorded.
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        # The lifespan shuts it down (flushing); an atexit hook would keep every provider a
        # test ever built alive until the interpreter exits.
        shutdown_on_exit=False,
    )
    # Batching: spans are queued on the request path and exported by the processor's thread.
    provider.add_span_processor(
        BatchSpanProcessor(
            build_exporter(settings), export_timeout_millis=EXPORT_TIMEOUT_SECONDS * 1000
        )
    )
    return provider
