"""The baseline serves the shop's shapes, so ratios compare like with like."""

from collections.abc import AsyncIterator

import httpx
import pytest

from apiforge.bench.baseline import PAGE_SIZE, create_baseline_app

PRODUCT_KEYS = {"id", "name", "description", "price", "stock", "category_id", "created_at"}
ORDER_KEYS = {"id", "organization_id", "status", "total", "created_at", "cancelled_at", "items"}
LINE_KEYS = {"product_id", "product_name", "quantity", "unit_price", "line_total"}


@pytest.fixture
async def baseline() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_baseline_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://baseline") as client:
        yield client


async def test_product_pages(baseline: httpx.AsyncClient) -> None:
    for path in ("/api/products", "/api/products/search?q=laptop"):
        response = await baseline.get(path)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) == PAGE_SIZE
        assert set(body["items"][0]) == PRODUCT_KEYS
        assert isinstance(body["items"][0]["price"], str)


async def test_product_detail_and_categories(baseline: httpx.AsyncClient) -> None:
    detail = (await baseline.get("/api/products/7")).json()
    assert set(detail) == PRODUCT_KEYS | {"category"}
    assert detail["id"] == 7
    assert set(detail["category"]) == {"id", "name"}
    categories = (await baseline.get("/api/categories")).json()
    assert set(categories[0]) == {"id", "name", "description"}
    patched = await baseline.patch("/api/products/7", json={"stock": 5})
    assert patched.status_code == 200


async def test_orders(baseline: httpx.AsyncClient) -> None:
    page = (await baseline.get("/api/orders")).json()
    assert len(page["items"]) == PAGE_SIZE
    assert set(page["items"][0]) == ORDER_KEYS
    assert set(page["items"][0]["items"][0]) == LINE_KEYS
    items = [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 2}]
    created = await baseline.post("/api/orders", json={"items": items})
    assert created.status_code == 201
    assert set(created.json()) == ORDER_KEYS
    assert len(created.json()["items"]) == 2
    assert (await baseline.post("/api/orders", json={"items": []})).status_code == 422


async def test_an_organizations_orders_and_its_key(baseline: httpx.AsyncClient) -> None:
    page = (await baseline.get("/api/organizations/1/orders")).json()
    assert {order["organization_id"] for order in page["items"]} == {1}
    assert set(page["items"][0]) == ORDER_KEYS
    assert [org["id"] for org in (await baseline.get("/api/organizations")).json()] == [1]
    key = await baseline.post("/api/organizations/1/api-keys", json={})
    assert key.json()["key"].startswith("afk_")


async def test_login_and_dashboard(baseline: httpx.AsyncClient) -> None:
    login = await baseline.post("/api/auth/login", json={"email": "c@x.org", "password": "p"})
    assert login.status_code == 200
    assert set(login.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    dashboard = (await baseline.get("/api/dashboard")).json()
    assert set(dashboard) == {"order_count", "total_spent", "recent_orders", "top_categories"}
