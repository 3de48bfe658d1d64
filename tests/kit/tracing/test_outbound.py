"""Outbound HTTP from a traced request: a client span under the server span, and the called
service receives a `traceparent` continuing the same trace (marked unsampled when the request
was not sampled, so the next service does not start recording halfway)."""

from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.trace import SpanKind

from apiforge.kit import AppState, Environment, Settings, app_state, create_app
from apiforge.kit.asgi import Scope
from apiforge.kit.settings import TracingSettings
from apiforge.kit.tracing import trace_http_client
from tests.kit.apps import responder
from tests.kit.tracing.conftest import children_of, serve_traced, server_spans

TRACEPARENT = b"traceparent"


def _relay_app(sqlite_url: str, seen: list[dict[bytes, bytes]], ratio: float) -> FastAPI:
    async def remember(scope: Scope) -> None:
        seen.append(dict(scope["headers"]))

    async def open_client(state: AppState) -> None:
        transport = httpx.ASGITransport(app=responder(before=remember))
        client = httpx.AsyncClient(transport=transport, base_url="http://downstream.test")
        trace_http_client(client, state)
        app.state.downstream = client  # a service's own resource: on Starlette's app.state

    router = APIRouter()

    @router.get("/relay")
    async def relay(request: Request) -> dict[str, Any]:
        client: httpx.AsyncClient = request.app.state.downstream
        return {"status": (await client.get("/ping")).status_code}

    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=sqlite_url,
        tracing=TracingSettings(enabled=True, exporter="console", sample_ratio=ratio),
    )
    app = create_app(settings, routers=[router], on_startup=[open_client])
    return app


async def test_outbound_call_is_a_child_span_and_carries_traceparent(sqlite_url: str) -> None:
    seen: list[dict[bytes, bytes]] = []
    app = _relay_app(sqlite_url, seen, 1.0)
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/relay")).json() == {"status": 200}
        await app.state.downstream.aclose()
    (server,) = server_spans(exporter)
    (outbound,) = children_of(exporter, server)
    assert outbound.kind is SpanKind.CLIENT
    assert outbound.name == "GET"
    _, trace_id, parent, flags = seen[0][TRACEPARENT].decode().split("-")
    assert trace_id == format(server.context.trace_id, "032x")
    assert parent == format(outbound.context.span_id, "016x")
    assert int(flags, 16) & 1  # sampled (the SDK may also set the "random ID" bit)


async def test_an_unsampled_request_passes_an_unsampled_traceparent(sqlite_url: str) -> None:
    seen: list[dict[bytes, bytes]] = []
    app = _relay_app(sqlite_url, seen, 0.0)
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/relay")).json() == {"status": 200}
        await app.state.downstream.aclose()
    assert exporter.get_finished_spans() == ()
    _, trace_id, _, flags = seen[0][TRACEPARENT].decode().split("-")
    assert len(trace_id) == 32
    assert not int(flags, 16) & 1


async def test_without_tracing_the_client_is_left_alone(sqlite_url: str) -> None:
    app = create_app(
        Settings(_env_file=None, environment=Environment.TEST, database_url=sqlite_url)
    )
    async with LifespanManager(app), httpx.AsyncClient() as client:
        trace_http_client(client, app_state(app))
        assert not getattr(client, "_is_instrumented_by_opentelemetry", False)
