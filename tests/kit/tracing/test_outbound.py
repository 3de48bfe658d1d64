"""Outbound HTTP from a traced request: a client span under the server span, and the called
service receives a `traceparent` continuing the same trace."""

from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Request
from opentelemetry.trace import SpanKind

from apiforge.kit import AppState, Environment, Settings, app_state, create_app
from apiforge.kit.asgi import Scope
from apiforge.kit.settings import TracingSettings
from apiforge.kit.tracing import trace_http_client
from tests.kit.apps import responder
from tests.kit.tracing.conftest import children_of, serve_traced, server_spans

DOWNSTREAM = "downstream"


async def test_outbound_call_is_a_child_span_and_carries_traceparent(sqlite_url: str) -> None:
    seen: list[dict[bytes, bytes]] = []

    async def remember(scope: Scope) -> None:
        seen.append(dict(scope["headers"]))

    async def open_client(state: AppState) -> None:
        transport = httpx.ASGITransport(app=responder(before=remember))
        client = httpx.AsyncClient(transport=transport, base_url="http://downstream.test")
        trace_http_client(client, state)
        state.extras[DOWNSTREAM] = client

    router = APIRouter()

    @router.get("/relay")
    async def relay(request: Request) -> dict[str, Any]:
        client: httpx.AsyncClient = app_state(request.app).extras[DOWNSTREAM]
        return {"status": (await client.get("/ping")).status_code}

    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=sqlite_url,
        tracing=TracingSettings(enabled=True, exporter="console", sample_ratio=1.0),
    )
    app = create_app(settings, routers=[router], on_startup=[open_client])
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/relay")).json() == {"status": 200}
        await app_state(app).extras[DOWNSTREAM].aclose()
    (server,) = server_spans(exporter)
    (outbound,) = children_of(exporter, server)
    assert outbound.kind is SpanKind.CLIENT
    assert outbound.name == "GET"
    trace_id = format(server.context.trace_id, "032x")
    span_id = format(outbound.context.span_id, "016x")
    _, sent_trace, parent, flags = seen[0][b"traceparent"].decode().split("-")
    assert (sent_trace, parent) == (trace_id, span_id)
    assert int(flags, 16) & 1  # sampled (the SDK may also set the "random ID" bit)


async def test_without_tracing_the_client_is_left_alone(sqlite_url: str) -> None:
    app = create_app(
        Settings(_env_file=None, environment=Environment.TEST, database_url=sqlite_url)
    )
    async with LifespanManager(app), httpx.AsyncClient() as client:
        trace_http_client(client, app_state(app))
        assert not getattr(client, "_is_instrumented_by_opentelemetry", False)
