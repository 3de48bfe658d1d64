"""GET /api/products: keyset pagination in every sort order, filters, validation, no N+1."""

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, encode_cursor, table_of
from apiforge.kit.testing import count_queries
from apiforge.shop.catalog.models import Product
from tests.factories import create_category
from tests.shop.catalog.conftest import Catalogue

SortKey = Callable[[Product], Any]
# The full order each sort promises, ties included: what the pages must add up to.
EXPECTED_ORDER: dict[str, tuple[SortKey, bool]] = {
    "id": (lambda p: p.id, False),
    "price": (lambda p: (p.price_minor, p.id), False),
    "-price": (lambda p: (p.price_minor, p.id), True),
    "name": (lambda p: (p.name, p.id), False),
    "-created_at": (lambda p: (p.created_at, p.id), True),
}


def raw_cursor(json_text: bytes) -> str:
    return base64.urlsafe_b64encode(json_text).decode().rstrip("=")


async def walk(client: httpx.AsyncClient, params: dict[str, Any]) -> list[list[int]]:
    """Every page of a listing, following next_cursor; the ids of each page."""
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = await client.get("/api/products", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


@pytest.mark.parametrize("sort", list(EXPECTED_ORDER))
async def test_every_sort_walks_all_pages_without_gaps_or_repeats(
    client: httpx.AsyncClient, catalogue: Catalogue, sort: str
) -> None:
    key, descending = EXPECTED_ORDER[sort]
    expected = [p.id for p in sorted(catalogue.live, key=key, reverse=descending)]

    pages = await walk(client, {"limit": 7, "sort": sort})

    assert [len(page) for page in pages] == [7] * 6 + [3]
    assert [pid for page in pages for pid in page] == expected


async def test_default_page(client: httpx.AsyncClient, catalogue: Catalogue) -> None:
    response = await client.get("/api/products")

    assert response.status_code == 200
    body = response.json()
    first = min(catalogue.live, key=lambda p: p.id)
    assert [item["id"] for item in body["items"]] == sorted(p.id for p in catalogue.live)[:20]
    assert body["next_cursor"]
    assert body["items"][0] == {
        "id": first.id,
        "name": first.name,
        "description": first.description,
        "price": "0.00",
        "stock": 0,
        "category_id": catalogue.tools.id,
        "created_at": "2024-05-01T12:00:00Z",
    }


async def test_last_page_has_no_cursor(client: httpx.AsyncClient, catalogue: Catalogue) -> None:
    body = (await client.get("/api/products", params={"limit": 100})).json()

    assert len(body["items"]) == 45
    assert body["next_cursor"] is None


async def test_prices_are_decimal_strings(client: httpx.AsyncClient, session: AsyncSession) -> None:
    category = await create_category(session)
    session.add(Product(category_id=category.id, name="x", price_minor=1205, stock=1))
    await session.flush()

    body = (await client.get("/api/products")).json()

    assert body["items"][0]["price"] == "12.05"


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"category_id": "tools"}, lambda p, c: p.category_id == c.tools.id),
        ({"min_price": "10"}, lambda p, c: p.price_minor >= 1000),
        ({"max_price": "10.00"}, lambda p, c: p.price_minor <= 1000),
        ({"min_price": "5", "max_price": "15"}, lambda p, c: 500 <= p.price_minor <= 1500),
        ({"in_stock": "true"}, lambda p, c: p.stock > 0),
        ({"in_stock": "false"}, lambda p, c: p.stock == 0),
        (
            {"category_id": "laptops", "in_stock": "true", "max_price": "5.00"},
            lambda p, c: p.category_id == c.laptops.id and p.stock > 0 and p.price_minor <= 500,
        ),
    ],
)
async def test_filters(
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    params: dict[str, str],
    predicate: Callable[[Product, Catalogue], bool],
) -> None:
    if "category_id" in params:
        category = getattr(catalogue, params["category_id"])
        params = dict(params, category_id=str(category.id))
    expected = sorted(p.id for p in catalogue.live if predicate(p, catalogue))
    assert 0 < len(expected) < len(catalogue.live)

    pages = await walk(client, dict(params, limit=4, sort="price"))
    ids = [pid for page in pages for pid in page]

    assert sorted(ids) == expected
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "-1"}, "max_price"),
        ({"min_price": "1.999"}, "min_price"),
        ({"sort": "stock"}, "sort"),
        ({"category_id": "0"}, "category_id"),
        ({"category_id": str(2**70)}, "category_id"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"sort_by": "price"}, "sort_by"),
    ],
)
async def test_bad_query_is_422(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/products", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "request.validation_failed"
    assert ["query", field] in [error["loc"] for error in problem["errors"]]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90LWpzb24",  # base64 of "not-json"
        encode_cursor("products:price", 500, 1),  # another sort's cursor
        encode_cursor("orders:id", 1, 1),
        encode_cursor("products:id", "1", 1),
        encode_cursor("products:id", 1),
        "A" * 600,
    ],
)
async def test_bad_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/api/products", params={"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid_cursor"


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("name", encode_cursor("products:name", "nul\x00byte", 1)),
        ("-created_at", encode_cursor("products:-created_at", "yesterday", 1)),
        ("-created_at", encode_cursor("products:-created_at", "2024-05-01T12:00:00", 1)),
        ("price", raw_cursor(b'["products:price", 18446744073709551616, 1]')),
        ("price", raw_cursor(b'["products:price", 5.5, 1]')),
    ],
)
async def test_tampered_cursor_values_are_422(
    client: httpx.AsyncClient, sort: str, cursor: str
) -> None:
    response = await client.get("/api/products", params={"cursor": cursor, "sort": sort})

    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid_cursor"


async def test_cursor_from_one_sort_is_refused_by_another(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    first = (await client.get("/api/products", params={"limit": 5, "sort": "price"})).json()

    response = await client.get(
        "/api/products", params={"limit": 5, "sort": "-price", "cursor": first["next_cursor"]}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid_cursor"


async def test_empty_parameters_count_as_absent(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    # The issue's own URL template, sent as is.
    response = await client.get(
        "/api/products?limit=3&cursor=&category_id=&min_price=&max_price=&in_stock=&sort="
    )

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == sorted(
        p.id for p in catalogue.live
    )[:3]


async def test_archived_products_are_never_listed(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    pages = await walk(client, {"limit": 100, "sort": "name"})

    archived = {p.id for p in catalogue.archived}
    assert archived.isdisjoint(pid for page in pages for pid in page)


@pytest.mark.parametrize("sort", ["id", "-price", "-created_at"])
async def test_page_size_does_not_change_the_query_count(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, sort: str
) -> None:
    category = await create_category(session)
    rows = [
        {"category_id": category.id, "name": f"p{i:03d}", "price_minor": i % 7, "stock": i}
        for i in range(130)
    ]
    await session.execute(insert(table_of(Product)), rows)
    counts: dict[int, list[int]] = {}
    for limit in (20, 100):
        cursor: str | None = None
        for _ in range(2):  # the first page, then one resumed from a cursor
            params = {"limit": limit, "sort": sort, **({"cursor": cursor} if cursor else {})}
            with count_queries(database.engine) as queries:
                response = await client.get("/api/products", params=params)
            assert response.status_code == 200
            assert len(response.json()["items"]) == min(limit, 130 - limit if cursor else limit)
            cursor = response.json()["next_cursor"]
            counts.setdefault(limit, []).append(len(queries.data_statements))

    assert counts == {20: [1, 1], 100: [1, 1]}
