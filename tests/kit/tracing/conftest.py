"""A traced kit app on real PostgreSQL and Redis, whose spans are also kept in memory."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from apiforge.kit import app_state
from apiforge.kit.tracing import tracer_provider
from tests.kit.apps import kit_app, serve

ROUTE = "/items/{item_id}"
logger = logging.getLogger("apiforge.tests.tracing")


def traced_router() -> APIRouter:
    router = APIRouter()

    @router.get(ROUTE)
    async def read_item(item_id: int, request: Request) -> dict[str, Any]:
        state = app_state(request.app)
        async with state.database.engine.connect() as conn:
            value = (await conn.execute(text("SELECT :n + 1"), {"n": item_id})).scalar_one()
        assert state.redis is not None
        await state.redis.set(f"tracing:item:{item_id}", value)
        logger.info("item read")
        return {"item": item_id, "value": value}

    return router


def traced_app(database_url: str, redis_url: str | None, **tracing: Any) -> FastAPI:
    # The console exporter is the configured one here (its output is captured); the spans
    # asserted on come from a second, in-memory processor added at start-up.
    values: dict[str, Any] = {"enabled": True, "exporter": "console", "sample_ratio": 1.0}
    values.update(tracing)
    return kit_app(
        database_url,
        traced_router(),
        redis_url=redis_url,
        cache={"enabled": False},
        tracing=values,
    )


@asynccontextmanager
async def serve_traced(
    app: FastAPI,
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    async with serve(app) as client:
        provider = tracer_provider(app_state(app))
        assert provider is not None
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        yield client, exporter


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def children_of(exporter: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    return [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]
