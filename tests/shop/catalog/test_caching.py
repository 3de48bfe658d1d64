"""Catalog reads are served from the cache as rendered bytes with an ETag; admin writes are
visible on the next read; authenticated answers are never stored by clients."""

import httpx
import orjson
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database
from apiforge.kit.testing import count_queries
from tests.factories import create_category, create_product

READS = ["/api/categories", "/api/products?limit=5", "/api/products/search?q=aero"]


async def _arrange(session: AsyncSession) -> int:
    category = await create_category(session)
    product = await create_product(session, category=category, price_minor=1999)
    return product.id


async def test_anonymous_reads_are_public_with_an_etag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    product_id = await _arrange(session)
    for url in [*READS, f"/api/products/{product_id}"]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=5"
        assert response.headers["etag"].startswith('"')
        assert response.headers["content-type"] == "application/json"


async def test_if_none_match_answers_304_without_a_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    product_id = await _arrange(session)
    first = await client.get(f"/api/products/{product_id}")
    etag = first.headers["etag"]
    again = await client.get(f"/api/products/{product_id}", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = await client.get(f"/api/products/{product_id}", headers={"if-none-match": f"W/{etag}"})
    assert weak.status_code == 304
    other = await client.get(f"/api/products/{product_id}", headers={"if-none-match": '"nope"'})
    assert other.status_code == 200
    assert other.json() == first.json()


async def test_authenticated_reads_are_private_no_store(
    client: httpx.AsyncClient, session: AsyncSession, customer_headers: dict[str, str]
) -> None:
    await _arrange(session)
    response = await client.get("/api/products", headers=customer_headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"


async def test_a_hit_costs_no_query(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    product_id = await _arrange(session)
    urls = [*READS, f"/api/products/{product_id}"]
    for url in urls:
        await client.get(url)
    with count_queries(database.engine) as counter:
        for url in urls:
            assert (await client.get(url)).status_code == 200
    assert counter.data_statements == []


async def test_an_admin_write_is_visible_on_the_next_read(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    product_id = await _arrange(session)
    assert (await client.get(f"/api/products/{product_id}")).json()["price"] == "19.99"
    listed = await client.get("/api/products")
    assert listed.json()["items"][0]["price"] == "19.99"

    patched = await client.patch(
        f"/api/products/{product_id}", json={"price": "25.00"}, headers=admin_headers
    )
    assert patched.status_code == 200
    assert (await client.get(f"/api/products/{product_id}")).json()["price"] == "25.00"
    assert (await client.get("/api/products")).json()["items"][0]["price"] == "25.00"


async def test_a_refused_write_does_not_invalidate(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str], app: FastAPI
) -> None:
    product_id = await _arrange(session)
    first = await client.get(f"/api/products/{product_id}")
    refused = await client.patch(
        f"/api/products/{product_id}", json={"category_id": 10**9}, headers=admin_headers
    )
    assert refused.status_code == 422
    again = await client.get(
        f"/api/products/{product_id}", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def test_errors_are_not_cached(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/products/999999")
    assert missing.status_code == 404
    assert "etag" not in missing.headers
    assert "public" not in missing.headers.get("cache-control", "")


async def test_an_import_is_visible_on_the_next_read(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    category = await create_category(session)
    await create_product(session, category=category, name="Existing")
    before = await client.get("/api/products?limit=100")
    body = orjson.dumps(
        {
            "name": "Imported",
            "description": "",
            "price": "1.00",
            "stock": 1,
            "category_id": category.id,
        }
    )
    imported = await client.post(
        "/api/admin/products/import",
        content=body + b"\n",
        headers={**admin_headers, "content-type": "application/x-ndjson"},
    )
    assert imported.status_code == 201, imported.text
    after = await client.get("/api/products?limit=100")
    assert len(after.json()["items"]) == len(before.json()["items"]) + 1
