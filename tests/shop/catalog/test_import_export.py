"""Bulk import and export over HTTP, on both databases."""

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.bulk.rows import MAX_ERRORS
from apiforge.shop.catalog.bulk.service import ProductImporter
from apiforge.shop.catalog.errors import ImportTooLargeError
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.settings import CatalogSettings
from tests.answers import assert_problem
from tests.factories import create_category, create_product

IMPORT = "/api/admin/products/import"
EXPORT = "/api/admin/products/export"
NDJSON = {"content-type": "application/x-ndjson"}


def row(category: Category, i: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": f"Imported {i}",
        "description": f"row {i}",
        "price": f"{i}.50",
        "stock": i,
        "category_id": category.id,
    }
    values.update(overrides)
    return values


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


async def stored(session: AsyncSession) -> list[tuple[str, str, int, int, int]]:
    statement = select(
        Product.name, Product.description, Product.price_minor, Product.stock, Product.category_id
    ).order_by(Product.id)
    return [tuple(r) for r in (await session.execute(statement)).all()]  # type: ignore[misc]  # Row -> tuple


async def product_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Product))).scalar_one())


@pytest.fixture
async def category(session: AsyncSession) -> Category:
    return await create_category(session, name="Imports")


async def test_a_json_array_is_imported(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    category: Category,
) -> None:
    rows = [row(category, i) for i in range(1, 4)]

    response = await client.post(IMPORT, json=rows, headers=admin_headers)

    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 3}
    assert await stored(session) == [
        (f"Imported {i}", f"row {i}", i * 100 + 50, i, category.id) for i in range(1, 4)
    ]


async def test_ndjson_is_imported_from_a_stream_split_anywhere(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    category: Category,
) -> None:
    body = ndjson([row(category, i) for i in range(1, 6)])
    body = body.replace(b"\n", b"\n\n", 1).rstrip(b"\n")  # a blank line, no final newline

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):  # splits lines and even UTF-8 boundaries
            yield body[start : start + 7]

    response = await client.post(IMPORT, content=chunks(), headers={**admin_headers, **NDJSON})

    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 5}
    assert [r[0] for r in await stored(session)] == [f"Imported {i}" for i in range(1, 6)]


async def test_a_bad_ndjson_row_names_its_line_and_nothing_is_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    category: Category,
) -> None:
    rows = [row(category, 1), row(category, 2), row(category, 3, price="12.345"), row(category, 4)]

    response = await client.post(IMPORT, content=ndjson(rows), headers={**admin_headers, **NDJSON})

    body = assert_problem(response, 422, "catalog.import_invalid")
    assert [(e["line"], e["loc"], e["type"]) for e in body["errors"]] == [
        (3, ["body", "3", "price"], "value_error")
    ]
    assert await product_count(session) == 0


async def test_json_array_errors_count_lines_from_one_and_list_every_bad_row(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    category: Category,
) -> None:
    rows: list[Any] = [row(category, 1), row(category, 2), {"name": "x"}, 7, row(category, 5)]
    rows[4]["colour"] = "red"

    response = await client.post(IMPORT, json=rows, headers=admin_headers)

    body = assert_problem(response, 422, "catalog.import_invalid")
    assert [(e["line"], e["loc"]) for e in body["errors"]] == [
        (3, ["body", "3", "price"]),
        (3, ["body", "3", "category_id"]),
        (4, ["body", "4"]),
        (5, ["body", "5", "colour"]),
    ]
    assert await product_count(session) == 0


async def test_errors_are_capped_and_malformed_lines_are_row_errors(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    body = b"{not json\n" * (MAX_ERRORS + 50)

    response = await client.post(IMPORT, content=body, headers={**admin_headers, **NDJSON})

    problem = assert_problem(response, 422, "catalog.import_invalid")
    assert len(problem["errors"]) == MAX_ERRORS
    assert problem["errors"][0]["type"] == "json_invalid"
    assert "first ones" in problem["detail"]


@pytest.mark.parametrize("body", [b"[1, 2", b'{"name": "not an array"}'])
async def test_a_json_body_that_is_not_an_array_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: bytes
) -> None:
    response = await client.post(
        IMPORT, content=body, headers={**admin_headers, "content-type": "application/json"}
    )

    problem = assert_problem(response, 422, "catalog.import_invalid")
    assert problem["errors"][0]["loc"] == ["body"]


async def test_unknown_categories_name_their_lines_and_nothing_is_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    category: Category,
) -> None:
    missing = category.id + 1000
    rows = [row(category, 1), row(category, 2, category_id=missing), row(category, 3)]
    rows.append(row(category, 4, category_id=missing))

    response = await client.post(IMPORT, json=rows, headers=admin_headers)

    problem = assert_problem(response, 422, "catalog.category_not_found")
    assert [(e["line"], e["loc"]) for e in problem["errors"]] == [
        (2, ["body", "2", "category_id"]),
        (4, ["body", "4", "category_id"]),
    ]
    assert await product_count(session) == 0


@pytest.mark.parametrize("content_type", ["text/csv", "application/xml", ""])
async def test_other_content_types_are_415(
    client: httpx.AsyncClient, admin_headers: dict[str, str], content_type: str
) -> None:
    response = await client.post(
        IMPORT, content=b"[]", headers={**admin_headers, "content-type": content_type}
    )

    assert_problem(response, 415, "catalog.import_unsupported_type")


async def test_content_type_parameters_are_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str], category: Category
) -> None:
    response = await client.post(
        IMPORT,
        content=orjson.dumps([row(category, 1)]),
        headers={**admin_headers, "content-type": "Application/JSON; charset=utf-8"},
    )

    assert response.status_code == 201, response.text


async def test_a_body_over_the_import_allowance_is_413(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {
        **admin_headers,
        **NDJSON,
        "content-length": str(CatalogSettings().import_max_bytes + 1),
    }

    response = await client.post(IMPORT, content=b"{}", headers=headers)

    assert_problem(response, 413, "request.too_large")


async def test_the_import_allowance_is_above_the_global_limit(
    client: httpx.AsyncClient, admin_headers: dict[str, str], category: Category
) -> None:
    rows = [row(category, i, description="d" * 1000) for i in range(1500)]  # ~1.6 MB
    body = ndjson(rows)
    assert len(body) > 1_048_576

    response = await client.post(IMPORT, content=body, headers={**admin_headers, **NDJSON})

    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 1500}


async def test_more_rows_than_one_import_takes_is_413(
    session: AsyncSession, category: Category
) -> None:
    importer = ProductImporter(session, max_rows=3)

    async def body() -> AsyncIterator[bytes]:
        yield ndjson([row(category, i) for i in range(4)])

    with pytest.raises(ImportTooLargeError):
        await importer.run("application/x-ndjson", body())


@pytest.mark.parametrize(
    ("content", "content_type"), [(b"[]", "application/json"), (b"", NDJSON["content-type"])]
)
async def test_an_empty_import_imports_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], content: bytes, content_type: str
) -> None:
    response = await client.post(
        IMPORT, content=content, headers={**admin_headers, "content-type": content_type}
    )

    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 0}


async def test_import_is_for_admins_only(
    client: httpx.AsyncClient, customer_headers: dict[str, str], category: Category
) -> None:
    anonymous = await client.post(IMPORT, json=[row(category, 1)])
    customer = await client.post(IMPORT, json=[row(category, 1)], headers=customer_headers)

    assert_problem(anonymous, 401, "auth.unauthenticated")
    assert_problem(customer, 403, "auth.permission_denied")


# -- export


@pytest.fixture
async def small_catalog(session: AsyncSession, category: Category) -> list[Product]:
    live = [
        await create_product(
            session, category=category, name='Plain "quoted", comma', price_minor=1999
        ),
        await create_product(
            session, category=category, name="Ünïcode\nnewline", price_minor=5, stock=0
        ),
    ]
    await create_product(session, category=category, name="Archived", is_archived=True)
    return live


async def test_ndjson_export_streams_live_products_by_id(
    client: httpx.AsyncClient, admin_headers: dict[str, str], small_catalog: list[Product]
) -> None:
    response = await client.get(EXPORT, params={"format": "ndjson"}, headers=admin_headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == 'attachment; filename="products.ndjson"'
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert lines == [
        {
            "id": p.id,
            "name": p.name,
            "description": p.description,
            "price": f"{p.price_minor // 100}.{p.price_minor % 100:02d}",
            "stock": p.stock,
            "category_id": p.category_id,
            "created_at": p.created_at.isoformat().replace("+00:00", "Z"),
        }
        for p in small_catalog
    ]


async def test_ndjson_export_matches_the_product_read_shape(
    client: httpx.AsyncClient, admin_headers: dict[str, str], small_catalog: list[Product]
) -> None:
    exported = await client.get(EXPORT, headers=admin_headers)
    detail = await client.get(f"/api/products/{small_catalog[0].id}")

    first = orjson.loads(exported.content.splitlines()[0])
    expected = detail.json()
    del expected["category"]
    assert first == expected


async def test_csv_export_has_a_header_and_quotes_what_it_must(
    client: httpx.AsyncClient, admin_headers: dict[str, str], small_catalog: list[Product]
) -> None:
    response = await client.get(EXPORT, params={"format": "csv"}, headers=admin_headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="products.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "name", "description", "price", "stock", "category_id", "created_at"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows[1:]] == [
        (str(p.id), p.name, f"{p.price_minor // 100}.{p.price_minor % 100:02d}", str(p.stock))
        for p in small_catalog
    ]


async def test_an_empty_catalog_exports_nothing_but_the_csv_header(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    ndjson_export = await client.get(EXPORT, headers=admin_headers)
    csv_export = await client.get(EXPORT, params={"format": "csv"}, headers=admin_headers)

    assert ndjson_export.content == b""
    assert csv_export.text.splitlines() == [
        "id,name,description,price,stock,category_id,created_at"
    ]


async def test_export_is_for_admins_only_and_checks_its_format(
    client: httpx.AsyncClient, customer_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    anonymous = await client.get(EXPORT)
    customer = await client.get(EXPORT, headers=customer_headers)
    bad_format = await client.get(EXPORT, params={"format": "xml"}, headers=admin_headers)

    assert_problem(anonymous, 401, "auth.unauthenticated")
    assert_problem(customer, 403, "auth.permission_denied")
    assert_problem(bad_format, 422, "request.validation_failed")


async def test_an_import_reads_back_through_the_export(
    client: httpx.AsyncClient, admin_headers: dict[str, str], category: Category
) -> None:
    rows = [row(category, i) for i in range(1, 4)]
    await client.post(IMPORT, json=rows, headers=admin_headers)

    exported = await client.get(EXPORT, headers=admin_headers)

    keys = ("name", "description", "price", "stock", "category_id")
    lines = [orjson.loads(line) for line in exported.content.splitlines()]
    assert [{k: line[k] for k in keys} for line in lines] == rows
