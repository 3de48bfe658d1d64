import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter

from apiforge.kit import Environment, NotFoundError
from apiforge.kit.middleware.security_headers import SecurityHeadersMiddleware
from tests.kit.apps import call_asgi, http_scope, kit_app, responder, serve

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "strict-transport-security"

router = APIRouter()


@router.get("/fine")
async def fine() -> dict[str, str]:
    return {"status": "fine"}


@router.get("/missing")
async def missing() -> None:
    raise NotFoundError


@router.get("/broken")
async def broken() -> None:
    raise RuntimeError("bug")


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(kit_app(sqlite_url, router, max_body_bytes=1024)) as http:
        yield http


def _assert_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], name


async def test_raw_middleware_adds_each_header_once() -> None:
    exchange = await call_asgi(SecurityHeadersMiddleware(responder()), http_scope())
    for name, value in EXPECTED.items():
        assert exchange.header(name.encode()) == [value.encode()]
    assert exchange.header(HSTS.encode()) == []
    assert exchange.header(b"content-type") == [b"text/plain"]


async def test_hsts_only_when_asked() -> None:
    exchange = await call_asgi(SecurityHeadersMiddleware(responder(), hsts=True), http_scope())
    assert exchange.header(HSTS.encode()) == [b"max-age=31536000; includeSubDomains"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/fine", 200),
        ("GET", "/health/live", 200),
        ("GET", "/missing", 404),
        ("GET", "/nowhere", 404),
        ("POST", "/fine", 405),
        ("GET", "/broken", 500),
    ],
)
async def test_every_answer_carries_the_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    _assert_security_headers(response)
    assert HSTS not in response.headers  # test environment: no HSTS


async def test_refused_oversized_body_carries_the_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/fine", content=b"a" * 2000)
    assert response.status_code == 413
    _assert_security_headers(response)


async def test_production_adds_hsts(sqlite_url: str) -> None:
    app = kit_app(
        sqlite_url, router, environment=Environment.PRODUCTION, secret_key=secrets.token_hex(32)
    )
    async with serve(app) as client:
        response = await client.get("/fine")
    assert response.headers[HSTS] == "max-age=31536000; includeSubDomains"
    _assert_security_headers(response)
