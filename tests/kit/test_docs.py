"""/docs and /redoc work offline: their HTML loads assets from this server only."""

import re
import secrets

import pytest
from pydantic import SecretStr

from apiforge.kit import Environment
from tests.kit.apps import kit_app, serve

ASSET_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
)
async def test_docs_pages_use_local_assets(sqlite_url: str, page: str, assets: set[str]) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        references = ASSET_REFERENCE.findall(html)
        assert {ref.removeprefix("/docs-assets/") for ref in references} == assets
        assert "://" not in html  # no CDN, no Google Fonts: nothing from another host
        assert "cdn.jsdelivr.net" not in html
        for reference in references:
            asset = await client.get(reference)
            assert asset.status_code == 200, reference
            assert len(asset.content) > 1000, reference


async def test_docs_assets_have_sensible_types(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        js = await client.get("/docs-assets/swagger-ui-bundle.js")
        css = await client.get("/docs-assets/swagger-ui.css")
        missing = await client.get("/docs-assets/nope.js")
        escape = await client.get("/docs-assets/%2e%2e/%2e%2e/fastapi/__init__.py")
        assert escape.request.url.raw_path.startswith(b"/docs-assets/%2e%2e")
    assert "javascript" in js.headers["content-type"]
    assert css.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404
    assert escape.status_code == 404


async def test_openapi_and_oauth2_redirect_outside_production(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        schema = await client.get("/openapi.json")
        redirect = await client.get("/docs/oauth2-redirect")
    assert schema.status_code == 200
    assert "/health/ready" in schema.json()["paths"]
    assert redirect.status_code == 200


PRODUCTION = {"environment": Environment.PRODUCTION, "secret_key": SecretStr(secrets.token_hex(32))}


@pytest.mark.parametrize(
    "path", ["/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui-bundle.js"]
)
async def test_production_hides_docs(sqlite_url: str, path: str) -> None:
    async with serve(kit_app(sqlite_url, **PRODUCTION)) as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "http.not_found"


async def test_production_serves_docs_when_asked(sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url, expose_docs=True, **PRODUCTION)) as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
