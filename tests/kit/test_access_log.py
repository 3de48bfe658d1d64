"""The access line: one per request, with the route template (never the raw path), status,
duration, client, user ID after authentication, and the request ID of the response."""

import logging

import httpx
import pytest
from fastapi import APIRouter

from apiforge.kit.access_log import ACCESS_LOGGER, AccessLog
from apiforge.kit.auth import Principal
from apiforge.kit.auth.dependencies import CurrentPrincipal
from apiforge.kit.lifespan import app_state
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
