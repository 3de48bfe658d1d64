"""Spans really leave the process: the OTLP/HTTP exporter posts them to a collector (here a
tiny local HTTP receiver) when the app shuts down, and the console exporter prints them."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.kit.apps import serve
from tests.kit.tracing.conftest import ROUTE, traced_app


@dataclass
class Received:
    path: str
    content_type: str
    body: bytes


@dataclass
class Collector:
    endpoint: str
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def collector() -> Iterator[Collector]:
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(Received(self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test asserts on what arrived

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_otlp_exporter_posts_spans_to_the_collector(
    kit_postgres_url: str, redis_url: str, collector: Collector
) -> None:
    app = traced_app(
        kit_postgres_url,
        redis_url,
        exporter="otlp",
        otlp_endpoint=collector.endpoint + "/",
        service_name="orders-api",
    )
    async with serve(app) as client:
        assert (await client.get("/items/5")).status_code == 200
    # Shutdown flushed the batch before the lifespan ended.
    assert collector.received, "nothing reached the collector"
    assert {r.path for r in collector.received} == {"/v1/traces"}
    assert {r.content_type for r in collector.received} == {"application/x-protobuf"}
    names: set[str] = set()
    services: set[str] = set()
    for request in collector.received:
        export = ExportTraceServiceRequest.FromString(request.body)
        for resource_spans in export.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names.update(span.name for span in scope_spans.spans)
    assert services == {"orders-api"}
    assert {f"GET {ROUTE}", "SELECT", "SET"} <= names


async def test_console_exporter_prints_spans(
    kit_postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = traced_app(kit_postgres_url, None, exporter="console")
    async with serve(app) as client:
        assert (await client.get("/no/route")).status_code == 404
    assert '"kind": "SpanKind.SERVER"' in capsys.readouterr().out
