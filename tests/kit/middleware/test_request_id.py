import logging
import re

import pytest
from fastapi import APIRouter

from apiforge.kit.asgi import Message, Receive, Scope, Send
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.request_context import current_request_id
from tests.kit.apps import (
    call_asgi,
    http_scope,
    json_lines,
    kit_app,
    kit_log_output,
    responder,
    restored_logging,
    serve,
)

GENERATED = re.compile(rb"[0-9a-f]{32}")


async def _request(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, str | None, str | None]:
    """(echoed header, ID bound while the app ran, ID in the scope's state)."""
    seen: dict[str, str | None] = {}

    async def look(scope: Scope) -> None:
        seen["bound"] = current_request_id()
        seen["state"] = scope["state"]["request_id"]

    exchange = await call_asgi(RequestIDMiddleware(responder(before=look)), http_scope(headers))
    echoed = exchange.header(b"x-request-id")
    assert len(echoed) == 1
    return echoed[0], seen["bound"], seen["state"]


@pytest.mark.parametrize(
    "incoming",
    [b"abc-123", b"0f3c9a2e-5b1d-4c1e-9d7a-2f6b8e4d1c00", b"svc.a:span_1", b"x" * 128],
)
async def test_sane_incoming_id_is_echoed_and_bound(incoming: bytes) -> None:
    echoed, bound, state = await _request([(b"x-request-id", incoming)])
    assert echoed == incoming
    assert bound == state == incoming.decode()


@pytest.mark.parametrize(
    "incoming",
    [
        b"",
        b"x" * 129,
        b"has space",
        b"line\r\nX-Injected: 1",
        b"new\nline",
        "caf\u00e9".encode(),
        "\u202eevil".encode(),
        b"\x00nul",
        b"\xff\xfe not utf-8",
        b"tab\there",
        b'quote"s',
        b'{"level":"error"}',
        b"<script>",
    ],
)
async def test_insane_incoming_id_is_replaced(incoming: bytes) -> None:
    echoed, bound, _ = await _request([(b"x-request-id", incoming)])
    assert echoed != incoming
    assert GENERATED.fullmatch(echoed)
    assert bound == echoed.decode()


async def test_missing_id_is_generated_and_unique() -> None:
    ids = {(await _request([]))[0] for _ in range(200)}
    assert len(ids) == 200
    assert all(GENERATED.fullmatch(request_id) for request_id in ids)


async def test_id_is_unbound_after_the_request() -> None:
    await _request([(b"x-request-id", b"short-lived")])
    assert current_request_id() is None


async def test_response_keeps_the_app_headers() -> None:
    exchange = await call_asgi(RequestIDMiddleware(responder()), http_scope())
    assert exchange.header(b"content-type") == [b"text/plain"]
    assert exchange.body == b"ok"


async def test_non_http_scopes_pass_through() -> None:
    calls: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])
        assert current_request_id() is None

    async def receive() -> Message:
        raise AssertionError("not used")

    async def send(message: Message) -> None:
        raise AssertionError("not used")

    await RequestIDMiddleware(app)({"type": "lifespan"}, receive, send)
    assert calls == ["lifespan"]


router = APIRouter()


@router.get("/work")
async def work() -> dict[str, bool]:
    logging.getLogger("apiforge.tests.work").info("working")
    return {"done": True}


@pytest.mark.parametrize("incoming", ["from-the-proxy", "bad id\u00e9"])
async def test_every_line_of_the_request_carries_the_id(sqlite_url: str, incoming: str) -> None:
    with restored_logging():
        app = kit_app(sqlite_url, router)
        with kit_log_output() as output:
            async with serve(app) as client:
                response = await client.get("/work", headers=[(b"X-Request-ID", incoming.encode())])
    echoed = response.headers["x-request-id"]
    assert (echoed == incoming) is incoming.isascii()
    in_request = {"apiforge.tests.work", "apiforge.access"}
    lines = [line for line in json_lines(output) if line["logger"] in in_request]
    assert len(lines) == 2
    assert {line["request_id"] for line in lines} == {echoed}
