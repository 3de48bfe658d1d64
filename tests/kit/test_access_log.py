"""The access line: one per request, with the route template (never the raw path), status,
duration, client, user ID after authentication, and the request ID of the response."""

import asyncio
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import httpx
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from apiforge.kit.access_log import ACCESS_LOGGER, AccessLog
from apiforge.kit.asgi import Scope
from apiforge.kit.auth import Principal
from apiforge.kit.identity.dependencies import CurrentPrincipal
from apiforge.kit.logs import KitLogHandler, configure_logging
from apiforge.kit.request_context import bind_request_id, reset_request_id
from apiforge.kit.route_template import CACHE_HIT_STATE, ROUTE_TEMPLATE_STATE
from apiforge.kit.settings import Environment, Settings
from apiforge.kit.state import app_state
from tests.kit.apps import http_scope, json_lines, kit_app, kit_log_output, restored_logging, serve

router = APIRouter()


@router.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@router.get("/whoami")
async def whoami(principal: CurrentPrincipal) -> dict[str, str]:
    return {"subject": principal.subject}


async def test_access_line_fields(sqlite_url: str) -> None:
    with restored_logging():
        app = kit_app(sqlite_url, router)
        with kit_log_output() as output:
            async with serve(app) as client:
                token = app_state(app).tokens.issue(Principal(subject="7", role="customer"))
                auth = {"Authorization": f"Bearer {token.token}"}
                item = await client.get("/items/42?x=1", headers={"X-Request-ID": "req-item"})
                me = await client.get("/whoami", headers=auth)
                missing = await client.post("/no/such/path")
    assert (item.status_code, me.status_code, missing.status_code) == (200, 200, 404)
    lines = [line for line in json_lines(output) if line["logger"] == ACCESS_LOGGER]
    assert len(lines) == 3
    item_line, me_line, missing_line = lines
    assert item_line["event"] == "request"
    assert item_line["level"] == "info"
    assert item_line["method"] == "GET"
    assert item_line["route"] == "/items/{item_id}"
    assert item_line["status"] == 200
    assert isinstance(item_line["duration_ms"], float)
    assert item_line["duration_ms"] >= 0
    assert item_line["client"] == "127.0.0.1"
    assert item_line["user_id"] is None
    assert item_line["request_id"] == "req-item" == item.headers["x-request-id"]
    assert me_line["route"] == "/whoami"
    assert me_line["user_id"] == "7"
    assert me_line["request_id"] == me.headers["x-request-id"]
    assert missing_line["method"] == "POST"
    assert missing_line["route"] == "<unmatched>"
    assert missing_line["status"] == 404


async def test_shop_route_is_logged_by_its_template(
    client: httpx.AsyncClient, customer_headers: dict[str, str]
) -> None:
    with kit_log_output() as output:
        response = await client.get("/api/products/987654", headers=customer_headers)
    assert response.status_code == 404
    (line,) = [line for line in json_lines(output) if line["logger"] == ACCESS_LOGGER]
    assert line["route"] == "/api/products/{product_id}"
    assert "987654" not in str(line)


async def test_access_log_off_writes_no_line(sqlite_url: str) -> None:
    with restored_logging():
        app = kit_app(sqlite_url, router, access_log=False)
        with kit_log_output() as output:
            async with serve(app) as client:
                assert (await client.get("/items/1")).status_code == 200
    assert [line for line in json_lines(output) if line["logger"] == ACCESS_LOGGER] == []


def test_observer_does_nothing_above_info(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("apiforge.tests.quiet_access")
    logger.setLevel(logging.WARNING)
    scope = http_scope()
    AccessLog(logger).request_finished(scope, 200, 0.001)
    logger.setLevel(logging.NOTSET)
    AccessLog(logger).request_finished({**scope, "client": None}, 503, 0.002)
    (record,) = [r for r in caplog.records if r.name == logger.name]
    assert record.__dict__["fields"]["client"] is None
    assert record.__dict__["fields"]["status"] == 503
    assert record.__dict__["fields"]["route"] == "<unmatched>"


class CountingStream(io.StringIO):
    """Counts writes: the batched access log must write many lines at once."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@contextmanager
def production_logging(stream: TextIO) -> Iterator[None]:
    """The kit's handler alone on the root, as in production: pytest's own capture handlers
    are set aside meanwhile (with them listening, the access log takes the `logging` path)."""
    settings = Settings(
        _env_file=None, environment=Environment.PRODUCTION, secret_key=SecretStr("s" * 48)
    )
    root = logging.getLogger()
    others = [h for h in root.handlers if not isinstance(h, KitLogHandler)]
    with restored_logging():
        configure_logging(settings, stream)
        for handler in others:
            root.removeHandler(handler)
        try:
            yield
        finally:
            for handler in others:
                root.addHandler(handler)


async def test_lines_of_one_loop_iteration_are_one_write() -> None:
    stream = CountingStream()
    with production_logging(stream):
        access_log = AccessLog()
        for status in (200, 201, 404):
            access_log.request_finished(http_scope(), status, 0.002)
        assert stream.writes == 0  # written at the end of this loop iteration
        await asyncio.sleep(0)
        assert stream.writes == 1
        lines = json_lines(stream)
        assert [line["status"] for line in lines] == [200, 201, 404]
        assert all(line["logger"] == ACCESS_LOGGER and line["level"] == "info" for line in lines)


async def test_batched_line_equals_the_logging_line() -> None:
    """The batched form and the `logging` form (taken when another handler listens) render the
    same JSON, timestamp aside."""
    batched, plain = io.StringIO(), io.StringIO()
    with production_logging(batched):
        token = bind_request_id("req-same")
        try:
            AccessLog().request_finished(http_scope(), 200, 0.0015)
            await asyncio.sleep(0)
            listener = logging.StreamHandler(io.StringIO())
            logging.getLogger().addHandler(listener)
            (kit_handler,) = [
                h for h in logging.getLogger().handlers if isinstance(h, KitLogHandler)
            ]
            kit_handler.setStream(plain)
            AccessLog().request_finished(http_scope(), 200, 0.0015)
            logging.getLogger().removeHandler(listener)
        finally:
            reset_request_id(token)
        (one,), (two,) = json_lines(batched), json_lines(plain)
        assert one.pop("timestamp")
        assert two.pop("timestamp")
        assert one == two
        assert one["request_id"] == "req-same"


async def test_shutdown_writes_what_is_buffered() -> None:
    stream = io.StringIO()
    with production_logging(stream):
        access_log = AccessLog()
        async with access_log.running(None):
            access_log.request_finished(http_scope(), 200, 0.001)
        assert len(json_lines(stream)) == 1  # before the loop got another iteration


async def test_a_closed_stream_does_not_fail_the_request(
    capfd: pytest.CaptureFixture[str],
) -> None:
    stream = io.StringIO()
    with production_logging(stream):
        access_log = AccessLog()
        access_log.request_finished(http_scope(), 200, 0.001)
        stream.close()
        access_log.flush()  # reported on stderr, not raised
        access_log.request_finished(http_scope(), 200, 0.001)
        access_log.flush()
    assert "I/O operation on closed file" in capfd.readouterr().err


def _cache_hit(route: str = "/api/items/{item_id}") -> Scope:
    """A scope as the front cache leaves it after serving a hit."""
    return {**http_scope(), "state": {ROUTE_TEMPLATE_STATE: route, CACHE_HIT_STATE: True}}


async def test_cache_hits_are_sampled_and_the_lines_add_up_to_every_hit() -> None:
    """At 2 lines a second: of 5 hits within half a second one line is written; the next
    line, a second later, stands for itself and the 4 not written. Other answers (a miss, an
    error served from the cache's route) all get a line."""
    now = [100.0]
    stream = io.StringIO()
    with production_logging(stream):
        access_log = AccessLog(hit_lines_per_second=2, clock=lambda: now[0])
        for _ in range(5):
            access_log.request_finished(_cache_hit(), 200, 0.0001)
            now[0] += 0.1
        now[0] += 0.5
        access_log.request_finished(_cache_hit(), 200, 0.0001)
        access_log.request_finished(_cache_hit("/other"), 200, 0.0001)  # its own budget
        access_log.request_finished(_cache_hit(), 304, 0.0001)  # and per status
        access_log.request_finished(http_scope(), 200, 0.001)  # not a hit
        access_log.request_finished(http_scope(), 200, 0.001)
        access_log.request_finished(_cache_hit(), 500, 0.001)  # a failure: always
        await asyncio.sleep(0)
        lines = json_lines(stream)
    assert [(line["route"], line["status"], line.get("represents")) for line in lines] == [
        ("/api/items/{item_id}", 200, None),
        ("/api/items/{item_id}", 200, 5),
        ("/other", 200, None),
        ("/api/items/{item_id}", 304, None),
        ("<unmatched>", 200, None),
        ("<unmatched>", 200, None),
        ("/api/items/{item_id}", 500, None),
    ]


async def test_without_a_rate_every_cache_hit_gets_a_line() -> None:
    stream = io.StringIO()
    with production_logging(stream):
        access_log = AccessLog()
        for _ in range(3):
            access_log.request_finished(_cache_hit(), 200, 0.0001)
        await asyncio.sleep(0)
        assert len(json_lines(stream)) == 3
