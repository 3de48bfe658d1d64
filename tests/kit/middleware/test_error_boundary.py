"""An unhandled exception is a 500 problem+json that reveals nothing, and its traceback is logged
with the request ID."""

import logging

import orjson
import pytest
from fastapi import APIRouter

from apiforge.kit.asgi import Receive, Scope, Send
from apiforge.kit.middleware.error_boundary import ErrorBoundaryMiddleware
from apiforge.kit.middleware.request_id import RequestIDMiddleware
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import call_asgi, capture_kit_logs, http_scope, kit_app, serve

LEAK = "password=hunter2 at db.internal:5432"

router = APIRouter()


@router.get("/broken")
async def broken() -> None:
    raise RuntimeError(LEAK)


async def test_unhandled_error_is_a_500_that_reveals_nothing(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = kit_app(sqlite_url, router)
    with capture_kit_logs(caplog):
        async with serve(app) as client:
            response = await client.get("/broken", headers={"X-Request-ID": "req-500-test"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["code"] == "internal"
    assert body["request_id"] == "req-500-test" == response.headers["x-request-id"]
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text

    records = [r for r in caplog.records if r.name == "apiforge.errors"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is RuntimeError
    lines = [orjson.loads(text) for text in caplog.text.strip().splitlines()]
    (line,) = [line for line in lines if line["logger"] == "apiforge.errors"]
    assert line["request_id"] == "req-500-test"
    assert "GET /broken" in line["event"]
    assert "Traceback" in line["exception"]
    # The operator gets the traceback and the message the client did not, minus the secret.
    assert "RuntimeError: password=[REDACTED] at db.internal:5432" in line["exception"]
    assert "hunter2" not in caplog.text


async def test_error_after_the_response_started_is_reraised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Headers are out: a second start would be a protocol error, so the server must see the
    exception and cut the connection."""

    async def half_answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("mid-stream")

    app = RequestIDMiddleware(ErrorBoundaryMiddleware(half_answer))
    with capture_kit_logs(caplog), pytest.raises(RuntimeError, match="mid-stream"):
        await call_asgi(app, http_scope())
    assert [r.name for r in caplog.records] == ["apiforge.errors"]


async def test_raw_boundary_answers_500_once() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("nope")

    exchange = await call_asgi(ErrorBoundaryMiddleware(failing), http_scope())
    assert exchange.status == 500
    assert len(exchange.messages) == 2
    assert orjson.loads(exchange.body)["code"] == "internal"
