"""Admin-only catalog writes: categories and products, who may call them, and delete/archive."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import table_of
from apiforge.shop.catalog.models import Category, Product
from tests.factories import UserWithPassword, create_category, create_product
from tests.shop.catalog.conftest import order_product

products = table_of(Product)
categories = table_of(Category)

ADMIN_ROUTES = [
    ("POST", "/api/categories", {"name": "New"}),
    ("PATCH", "/api/categories/1", {"name": "Renamed"}),
    ("DELETE", "/api/categories/1", None),
    ("POST", "/api/products", {"name": "X", "price": "1.00", "category_id": 1}),
    ("PATCH", "/api/products/1", {"stock": 1}),
    ("DELETE", "/api/products/1", None),
]


async def product_row(session: AsyncSession, product_id: int) -> Any:
    """The row as the database has it now (Core: the ORM identity map may be stale)."""
    statement = select(products).where(products.c.id == product_id)
    return (await session.execute(statement)).first()


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ROUTES)
async def test_customers_are_forbidden(
    client: httpx.AsyncClient,
    customer_headers: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any] | None,
) -> None:
    response = await client.request(method, url, json=body, headers=customer_headers)

    assert response.status_code == 403
    assert response.json()["code"] == "auth.permission_denied"


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ROUTES)
async def test_anonymous_callers_are_unauthenticated(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, url, json=body)

    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthenticated"


# -- categories


async def test_create_category(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/categories",
        json={"name": "  Cameras ", "description": "Film and digital"},
        headers=admin_headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "name": "Cameras", "description": "Film and digital"}
    listed = (await client.get("/api/categories")).json()
    assert listed == [body]


async def test_duplicate_category_name_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    await create_category(session, name="Cameras")

    response = await client.post("/api/categories", json={"name": "Cameras"}, headers=admin_headers)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.category_exists"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "nul\x00"},
        {"name": "Ok", "id": 5},
        {"name": "Ok", "description": None},
    ],
)
async def test_invalid_category_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, Any]
) -> None:
    response = await client.post("/api/categories", json=body, headers=admin_headers)

    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"


async def test_update_category(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session, name="Cams", description="keep me")

    response = await client.patch(
        f"/api/categories/{category.id}", json={"name": "Cameras"}, headers=admin_headers
    )

    assert response.status_code == 200
    assert response.json() == {"id": category.id, "name": "Cameras", "description": "keep me"}


async def test_update_category_errors(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    await create_category(session, name="Cameras")
    lenses = await create_category(session, name="Lenses")
    url = f"/api/categories/{lenses.id}"

    taken = await client.patch(url, json={"name": "Cameras"}, headers=admin_headers)
    null = await client.patch(url, json={"name": None}, headers=admin_headers)
    unknown = await client.patch(
        f"/api/categories/{lenses.id + 100}", json={"name": "X"}, headers=admin_headers
    )
    huge = await client.patch(f"/api/categories/{2**70}", json={}, headers=admin_headers)

    assert (taken.status_code, taken.json()["code"]) == (409, "catalog.category_exists")
    assert (null.status_code, null.json()["code"]) == (422, "request.validation_failed")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "catalog.category_not_found")
    assert (huge.status_code, huge.json()["code"]) == (422, "request.validation_failed")
    # The 409 left the transaction usable: the name did not change.
    listed = {c["id"]: c["name"] for c in (await client.get("/api/categories")).json()}
    assert listed[lenses.id] == "Lenses"


async def test_delete_category(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session, name="Empty")

    response = await client.delete(f"/api/categories/{category.id}", headers=admin_headers)
    again = await client.delete(f"/api/categories/{category.id}", headers=admin_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert (again.status_code, again.json()["code"]) == (404, "catalog.category_not_found")
    assert (await client.get("/api/categories")).json() == []


@pytest.mark.parametrize("archived", [False, True])
async def test_category_in_use_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    archived: bool,
) -> None:
    category = await create_category(session)
    await create_product(session, category=category, is_archived=archived)

    response = await client.delete(f"/api/categories/{category.id}", headers=admin_headers)

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.category_in_use"
    assert len((await client.get("/api/categories")).json()) == 1


# -- products


async def test_create_product(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session)

    response = await client.post(
        "/api/products",
        json={"name": "Lens", "price": "249.5", "stock": 3, "category_id": category.id},
        headers=admin_headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Lens",
        "description": "",
        "price": "249.50",
        "stock": 3,
        "category_id": category.id,
        "created_at": body["created_at"],
    }
    row = await product_row(session, body["id"])
    assert (row.price_minor, row.is_archived) == (24950, False)
    detail = await client.get(f"/api/products/{body['id']}")
    assert detail.json()["category"] == {"id": category.id, "name": "Laptops"}


async def test_create_product_in_unknown_category_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/products",
        json={"name": "Lens", "price": "1.00", "category_id": 999_999},
        headers=admin_headers,
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "catalog.category_not_found"
    assert problem["errors"][0]["loc"] == ["body", "category_id"]


@pytest.mark.parametrize(
    "changes",
    [
        {"price": "-1.00"},
        {"price": 12.5},
        {"price": 1250},
        {"price": "1.234"},
        {"price": "99999999999"},
        {"stock": -1},
        {"stock": 2**31},
        {"category_id": 0},
        {"category_id": 2**70},
        {"name": "bad\x00name"},
        {"is_archived": True},
        {"id": 7},
    ],
)
async def test_invalid_product_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    changes: dict[str, Any],
) -> None:
    category = await create_category(session)
    body = {"name": "Lens", "price": "1.00", "category_id": category.id, **changes}

    response = await client.post("/api/products", json=body, headers=admin_headers)

    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"


async def test_update_product_changes_only_what_is_sent(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    laptops = await create_category(session)
    tools = await create_category(session, name="Tools")
    product = await create_product(session, category=laptops, price_minor=1000, stock=5)

    response = await client.patch(
        f"/api/products/{product.id}",
        json={"price": "12.34", "category_id": tools.id},
        headers=admin_headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["price"], body["stock"], body["category_id"]) == ("12.34", 5, tools.id)
    assert body["name"] == "Aero 14 Laptop"
    row = await product_row(session, product.id)
    assert (row.price_minor, row.stock, row.category_id) == (1234, 5, tools.id)


async def test_update_product_errors(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session)
    product = await create_product(session, category=category, stock=5)
    archived = await create_product(session, category=category, is_archived=True)
    url = f"/api/products/{product.id}"

    unknown_category = await client.patch(url, json={"category_id": 999_999}, headers=admin_headers)
    null = await client.patch(url, json={"stock": None}, headers=admin_headers)
    negative = await client.patch(url, json={"stock": -1}, headers=admin_headers)
    gone = await client.patch(
        f"/api/products/{archived.id}", json={"stock": 1}, headers=admin_headers
    )

    assert (unknown_category.status_code, unknown_category.json()["code"]) == (
        422,
        "catalog.category_not_found",
    )
    assert (null.status_code, null.json()["code"]) == (422, "request.validation_failed")
    assert (negative.status_code, negative.json()["code"]) == (422, "request.validation_failed")
    assert (gone.status_code, gone.json()["code"]) == (404, "catalog.product_not_found")
    assert (await product_row(session, product.id)).category_id == category.id


async def test_delete_unordered_product_deletes_it(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session)
    product = await create_product(session, category=category)

    response = await client.delete(f"/api/products/{product.id}", headers=admin_headers)

    assert response.status_code == 204
    assert await product_row(session, product.id) is None
    assert (await client.get(f"/api/products/{product.id}")).status_code == 404


async def test_delete_ordered_product_archives_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    customer: UserWithPassword,
) -> None:
    category = await create_category(session)
    product = await create_product(session, category=category)
    await order_product(session, customer, product)

    response = await client.delete(f"/api/products/{product.id}", headers=admin_headers)

    assert response.status_code == 204
    row = await product_row(session, product.id)
    assert row is not None
    assert row.is_archived is True
    detail = await client.get(f"/api/products/{product.id}")
    assert (detail.status_code, detail.json()["code"]) == (404, "catalog.product_not_found")
    assert (await client.get("/api/products")).json()["items"] == []
    assert (await client.get("/api/products/search", params={"q": "laptop"})).json()["items"] == []
    again = await client.delete(f"/api/products/{product.id}", headers=admin_headers)
    assert (again.status_code, again.json()["code"]) == (404, "catalog.product_not_found")


async def test_delete_unknown_product_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.delete("/api/products/424242", headers=admin_headers)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.product_not_found"
