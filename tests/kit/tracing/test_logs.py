"""With tracing on, every log line written inside a request carries its trace and span IDs:
the route's own line and the access line; an unsampled request's lines too (its trace ID
still ties together the lines of every service it crossed)."""

import orjson
import pytest

from tests.kit.tracing.conftest import serve_traced, server_spans, traced_app


async def test_log_lines_carry_the_trace_id(
    kit_postgres_url: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = traced_app(kit_postgres_url, redis_url)
    capsys.readouterr()
    async with serve_traced(app) as (client, exporter):
        assert (await client.get("/items/8", headers={"x-request-id": "req-8"})).status_code == 200
    (server,) = server_spans(exporter)
    lines = [orjson.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    ours = [line for line in lines if line.get("request_id") == "req-8"]
    assert {line["event"] for line in ours} >= {"item read", "request"}
    for line in ours:
        assert line["trace_id"] == format(server.context.trace_id, "032x")
        assert line["span_id"] == format(server.context.span_id, "016x")
    # Outside a request (start-up, shutdown) there is no span, and no trace field.
    assert all("trace_id" not in line for line in lines if line.get("request_id") is None)


async def test_unsampled_requests_log_their_trace_id_too(
    kit_postgres_url: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = traced_app(kit_postgres_url, redis_url, sample_ratio=0.0)
    capsys.readouterr()
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    async with serve_traced(app) as (client, exporter):
        for request_id, headers in (("plain", {}), ("parented", {"traceparent": traceparent})):
            response = await client.get("/items/8", headers={"x-request-id": request_id, **headers})
            assert response.status_code == 200
    assert exporter.get_finished_spans() == ()
    lines = [orjson.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    by_request = {line["request_id"]: line for line in lines if line.get("event") == "item read"}
    assert len(by_request["plain"]["trace_id"]) == 32
    assert by_request["parented"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert by_request["parented"]["span_id"] != "00f067aa0ba902b7"  # its own span, a child
