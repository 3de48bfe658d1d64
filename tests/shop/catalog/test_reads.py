"""GET /api/categories, /api/products/{id} and /api/products/search."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database
from apiforge.kit.testing import count_queries
from apiforge.shop.catalog.models import Category, Product
from tests.factories import create_category, create_product


async def test_categories_are_listed_by_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    tools = await create_category(session, name="tools", description="hand tools")
    books = await create_category(session, name="books")

    response = await client.get("/api/categories")

    assert response.status_code == 200
    assert response.json() == [
        {"id": books.id, "name": "books", "description": ""},
        {"id": tools.id, "name": "tools", "description": "hand tools"},
    ]


async def test_product_detail_has_its_category(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    category = await create_category(session, name="Laptops")
    product = await create_product(session, category=category, price_minor=129_999, stock=4)

    with count_queries(database.engine) as queries:
        response = await client.get(f"/api/products/{product.id}")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": product.id,
        "name": "Aero 14 Laptop",
        "description": "A light laptop",
        "price": "1299.99",
        "stock": 4,
        "category_id": category.id,
        "category": {"id": category.id, "name": "Laptops"},
        "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("Z")
    assert len(queries.data_statements) == 1


async def test_unknown_and_archived_products_are_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    category = await create_category(session)
    archived = await create_product(session, category=category, is_archived=True)

    for product_id in (archived.id, archived.id + 1000):
        response = await client.get(f"/api/products/{product_id}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "catalog.product_not_found"


@pytest.mark.parametrize("product_id", [str(2**70), str(2**63), "0", "-1", "abc", "1.5"])
async def test_bad_product_id_is_422(client: httpx.AsyncClient, product_id: str) -> None:
    response = await client.get(f"/api/products/{product_id}")

    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"


@pytest.fixture
async def searchable(session: AsyncSession) -> dict[str, Product]:
    category = await create_category(session)
    specs = {
        "name": ("Aero 14 Laptop", "light and thin"),
        "description": ("Travel bag", "Fits a LAPTOP up to 15 inches"),
        "upper": ("GAMING LAPTOP", ""),
        "percent": ("100% cotton shirt", "soft"),
        "underscore": ("snake_case mug", "for programmers"),
        "backslash": ("back\\slash poster", "a path"),
        "other": ("Desk lamp", "warm light"),
    }
    found = {
        key: await create_product(session, category=category, name=name, description=text)
        for key, (name, text) in specs.items()
    }
    found["archived"] = await create_product(
        session, category=category, name="Old laptop", is_archived=True
    )
    return found


async def search(client: httpx.AsyncClient, q: str, **params: int | str) -> list[int]:
    response = await client.get("/api/products/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("q", "keys"),
    [
        ("laptop", ["name", "description", "upper"]),
        ("LapTop", ["name", "description", "upper"]),
        ("inches", ["description"]),
        ("%", ["percent"]),
        ("0%", ["percent"]),
        ("_", ["underscore"]),
        ("e_c", ["underscore"]),
        ("\\", ["backslash"]),
        ("k\\s", ["backslash"]),
        ("a%e", []),  # would match "Aero 14 Laptop" (and more) if % were a wildcard
        ("nothing like it", []),
    ],
)
async def test_search_matches_name_or_description_literally(
    client: httpx.AsyncClient, searchable: dict[str, Product], q: str, keys: list[str]
) -> None:
    assert await search(client, q) == sorted(searchable[key].id for key in keys)


async def test_search_pages_by_id(
    client: httpx.AsyncClient, searchable: dict[str, Product]
) -> None:
    first = (await client.get("/api/products/search", params={"q": "laptop", "limit": 2})).json()
    second = (
        await client.get(
            "/api/products/search",
            params={"q": "laptop", "limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()

    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(searchable[key].id for key in ("name", "description", "upper"))
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "nul\x00byte"}, "request.validation_failed"),
        ({"q": ""}, "request.validation_failed"),
        ({"q": "x" * 101}, "request.validation_failed"),
        ({}, "request.validation_failed"),
        ({"q": "laptop", "limit": "0"}, "request.validation_failed"),
        ({"q": "laptop", "limit": "101"}, "request.validation_failed"),
        ({"q": "laptop", "cursor": "garbage"}, "request.invalid_cursor"),
    ],
)
async def test_bad_search_is_422(
    client: httpx.AsyncClient, params: dict[str, str], code: str
) -> None:
    response = await client.get("/api/products/search", params=params)

    assert response.status_code == 422
    assert response.json()["code"] == code


async def test_search_costs_one_query_whatever_the_limit(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    category = Category(name="Bulk")
    session.add(category)
    await session.flush()
    session.add_all(
        Product(category_id=category.id, name=f"laptop {i}", price_minor=i, stock=1)
        for i in range(120)
    )
    await session.flush()

    counts = []
    for limit in (20, 100):
        with count_queries(database.engine) as queries:
            assert len(await search(client, "laptop", limit=limit)) == limit
        counts.append(len(queries.data_statements))

    assert counts == [1, 1]
