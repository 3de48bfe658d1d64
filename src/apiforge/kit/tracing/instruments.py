"""Attaches one app's tracer provider to the clients its lifespan built: the SQLAlchemy
engine, the Redis client, and outbound HTTPX clients. Per instance, never by patching the
libraries process-wide. Not for: the request spans (see `middleware.py`)."""

from typing import TYPE_CHECKING

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqlalchemy_version
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from redis.asyncio import Redis


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """One client span per statement, a child of the request's span. `EngineTracer` is what
    `SQLAlchemyInstrumentor().instrument(engine=...)` builds, minus the instrumentor's
    process-wide patching of `create_engine` (and its once-per-process guard, which would
    leave every later app untraced). Its listeners live on the engine, which the same
    lifespan disposes of."""
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", sqlalchemy_version)
    # The library wants a pool-usage counter; the pool metrics are Prometheus's job.
    usage = NoOpMeterProvider().get_meter("apiforge").create_up_down_counter("unused")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]  # untyped library


def instrument_redis(client: "Redis", provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor.instrument_client(client, tracer_provider=provider)


def uninstrument_redis(client: "Redis") -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor.uninstrument_client(client)


def instrument_http_client(client: httpx.AsyncClient, provider: TracerProvider) -> None:
    """A client span per outbound request, and the `traceparent` header on it, so the
    called service continues this trace."""
    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=provider, meter_provider=NoOpMeterProvider()
    )
