"""A traced request: one server span named by route template, tagged with the request ID,
with a child span per SQL statement and per Redis command, on real PostgreSQL and Redis; and
head sampling that drops new traces at ratio 0 but follows a sampled incoming parent."""

from opentelemetry.trace import SpanKind

from tests.kit.tracing.conftest import ROUTE, children_of, serve_traced, server_spans, traced_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_request_span_has_sql_and_redis_children(
    kit_postgres_url: str, redis_url: str
) -> None:
    app = traced_app(kit_postgres_url, redis_url)
    async with serve_traced(app) as (client, exporter):
        response = await client.get("/items/41", headers={"x-request-id": "req-41"})
        assert response.json() == {"item": 41, "value": 42}
    (server,) = server_spans(exporter)
    assert server.name == f"GET {ROUTE}"  # the template, never the raw path
    assert server.attributes is not None
    assert server.attributes["http.route"] == ROUTE
    assert server.attributes["apiforge.request_id"] == "req-41"
    # The library's own request attributes are there too (it was handed the sampled span).
    assert server.attributes["http.method"] == "GET"
    assert server.attributes["http.status_code"] == 200
    assert server.instrumentation_scope is not None
    assert server.instrumentation_scope.name == "opentelemetry.instrumentation.asgi"
    assert server.resource.attributes["service.name"] == "apiforge"
    children = children_of(exporter, server)
    assert sorted((s.name, s.kind) for s in children) == [
        ("SELECT", SpanKind.CLIENT),
        ("SET", SpanKind.CLIENT),
    ]
    by_system = {(s.attributes or {})["db.system"]: s for s in children}
    # Statements are recorded with their placeholders: no bound value reaches a trace.
    assert (by_system["postgresql"].attributes or {})["db.statement"] == "SELECT $1 + 1"
    assert (by_system["redis"].attributes or {})["db.statement"] == "SET ? ?"
    assert {s.context.trace_id for s in children} == {server.context.trace_id}


async def test_unmatched_path_is_named_by_method_only(kit_postgres_url: str) -> None:
    app = traced_app(kit_postgres_url, None)
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/no/such/path/123")).status_code == 404
    (server,) = server_spans(exporter)
    assert server.name == "GET"
    assert "http.route" not in (server.attributes or {})


async def test_ratio_zero_records_nothing_but_follows_a_sampled_parent(
    kit_postgres_url: str, redis_url: str
) -> None:
    app = traced_app(kit_postgres_url, redis_url, sample_ratio=0.0)
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/items/1")).status_code == 200
        assert exporter.get_finished_spans() == ()
        traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
        response = await client.get("/items/2", headers={"traceparent": traceparent})
        assert response.status_code == 200
    (server,) = server_spans(exporter)
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == PARENT_ID
    assert server.name == f"GET {ROUTE}"
    assert len(children_of(exporter, server)) == 2


async def test_unsampled_parent_is_followed_too(kit_postgres_url: str, redis_url: str) -> None:
    app = traced_app(kit_postgres_url, redis_url, sample_ratio=1.0)
    async with serve_traced(app) as (client, exporter):
        traceparent = f"00-{TRACE_ID}-{PARENT_ID}-00"
        response = await client.get("/items/3", headers={"traceparent": traceparent})
        assert response.status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_health_probes_are_not_traced(kit_postgres_url: str, redis_url: str) -> None:
    app = traced_app(kit_postgres_url, redis_url)
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/items/9")).status_code == 200
    assert [s.name for s in server_spans(exporter)] == [f"GET {ROUTE}"]


async def test_the_query_string_stays_out_of_the_span(
    kit_postgres_url: str, redis_url: str
) -> None:
    """A query can carry a secret (a reset token in a link); the span keeps the path."""
    app = traced_app(kit_postgres_url, redis_url)
    async with serve_traced(app) as (client, exporter):
        response = await client.get("/items/7?token=reset-secret-123&q=a%40b.example")
        assert response.status_code == 200
    (server,) = server_spans(exporter)
    attributes = dict(server.attributes or {})
    assert attributes["http.url"] == "http://testserver/items/7"
    assert "url.query" not in attributes
    assert "reset-secret-123" not in str(attributes)
    assert "a@b.example" not in str(attributes)
