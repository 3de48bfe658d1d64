"""What browsers are told: the strictest Content-Security-Policy for API answers and the least
the offline docs need for theirs; no cross-origin access unless origins are listed (then
preflights answered, the kit's headers readable); and only the service's own Host names
when they are configured."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter

from apiforge.kit import CorsSettings
from apiforge.kit.middleware.security_headers import API_CSP, DOCS_CSP
from tests.kit.apps import kit_app, serve

router = APIRouter()


@router.get("/things")
async def things() -> list[int]:
    return [1]


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = kit_app(
        sqlite_url,
        router,
        expose_docs=True,
        cors=CorsSettings(allow_origins=["https://app.example.com"]),
        trusted_hosts=["testserver", "*.example.com"],
    )
    async with serve(app) as http:
        yield http


async def test_api_answers_get_the_strictest_policy(client: httpx.AsyncClient) -> None:
    for url in ("/things", "/no-such-page", "/openapi.json"):
        response = await client.get(url)
        assert response.headers["content-security-policy"] == API_CSP.decode()


async def test_the_docs_get_what_they_need(client: httpx.AsyncClient) -> None:
    for url in ("/docs", "/redoc", "/docs/oauth2-redirect", "/docs-assets/swagger-ui.css"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"] == DOCS_CSP.decode()
    page = (await client.get("/docs")).text
    # Everything the page loads is the app's own (the CSP's 'self'), nothing from a CDN.
    assert "cdn" not in page.lower()


async def test_a_listed_origin_is_allowed_across_origins(client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://app.example.com"}
    preflight = await client.options(
        "/things",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-api-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    answer = await client.get("/things", headers=origin)
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


async def test_another_origin_gets_no_cross_origin_access(client: httpx.AsyncClient) -> None:
    answer = await client.get("/things", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in answer.headers


async def test_by_default_no_origin_is_allowed(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url, router)) as client:
        answer = await client.get("/things", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("testserver", 200),
        ("api.example.com", 200),
        ("API.EXAMPLE.COM:8443", 200),
        ("example.com", 400),
        ("evil.test", 400),
        ("api.example.com.evil.test", 400),
    ],
)
async def test_only_the_services_host_names_are_served(
    client: httpx.AsyncClient, host: str, status: int
) -> None:
    response = await client.get("/things", headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "request.host_not_allowed"


def test_credentials_need_explicit_origins() -> None:
    with pytest.raises(ValueError, match="explicit origins"):
        CorsSettings(allow_origins=["*"], allow_credentials=True)
