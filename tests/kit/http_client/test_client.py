"""Outbound HTTP against a real local server that records what it receives: the request ID is
passed on (from the caller's own context), timeouts are mandatory and enforced, and the app's
client lives as long as its lifespan."""

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import APIRouter, Request

from apiforge.kit.http_client import DEFAULT_TIMEOUT, build_http_client
from apiforge.kit.request_context import bind_request_id, reset_request_id
from apiforge.kit.state import app_state
from tests.kit.apps import kit_app, serve


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 (after a pause on /slow) and records each request's X-Request-ID."""

    seen: list[str | None]

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1)
        self.seen.append(self.headers.get("X-Request-ID"))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `seen`."""


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []
    handler = type("BoundRecorder", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_request_id_is_passed_on(upstream: tuple[str, list[str | None]]) -> None:
    url, seen = upstream
    async with build_http_client(base_url=url) as client:
        token = bind_request_id("req-outbound")
        try:
            assert (await client.get("/")).status_code == 200
            await client.get("/", headers={"X-Request-ID": "chosen-by-caller"})
        finally:
            reset_request_id(token)
        await client.get("/")  # outside any request: no header
    assert seen == ["req-outbound", "chosen-by-caller", None]


async def test_concurrent_calls_carry_their_own_id(
    upstream: tuple[str, list[str | None]],
) -> None:
    url, seen = upstream

    async def call(request_id: str, client: httpx.AsyncClient) -> None:
        bind_request_id(request_id)  # each task runs in a copy of the context
        await client.get("/")

    async with build_http_client(base_url=url) as client:
        await asyncio.gather(*(call(f"req-{i}", client) for i in range(5)))
    assert sorted(seen, key=str) == [f"req-{i}" for i in range(5)]


async def test_timeouts_are_enforced(upstream: tuple[str, list[str | None]]) -> None:
    url, _ = upstream
    quick = httpx.Timeout(0.1, connect=1.0)
    async with build_http_client(base_url=url, timeout=quick) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


def test_a_timeout_is_required_on_every_phase() -> None:
    assert None not in (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read, DEFAULT_TIMEOUT.pool)
    with pytest.raises(ValueError, match="timeout"):
        build_http_client(timeout=httpx.Timeout(None))
    with pytest.raises(ValueError, match="timeout"):
        build_http_client(timeout=httpx.Timeout(5.0, pool=None))


router = APIRouter()


@router.get("/relay")
async def relay(request: Request, url: str) -> dict[str, int]:
    response = await app_state(request.app).http_client.get(url)
    return {"upstream_status": response.status_code}


async def test_app_client_relays_the_request_id(
    sqlite_url: str, upstream: tuple[str, list[str | None]]
) -> None:
    url, seen = upstream
    app = kit_app(sqlite_url, router)
    async with serve(app) as client:
        response = await client.get("/relay", params={"url": url})
        http_client = app_state(app).http_client
        assert not http_client.is_closed
    assert response.json() == {"upstream_status": 200}
    assert seen == [response.headers["x-request-id"]]
    assert http_client.is_closed  # the lifespan closed it
