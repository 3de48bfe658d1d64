"""The shop's policies on its routes (ratelimits.py), in process on a pinned clock: cached
catalog reads are never limited (a front-cache hit answers before routing) while uncached
searches are, per address; writes and requests per principal; an organization's
API keys per key and per organization, users never by those."""

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import app_state
from tests.conftest import FrozenClock
from tests.factories import UserWithPassword, create_api_key, create_category, create_product


async def codes(
    client: httpx.AsyncClient, method: str, paths: list[str], **kw: object
) -> list[int]:
    return [(await client.request(method, path, **kw)).status_code for path in paths]  # type: ignore[arg-type]  # json/headers


async def test_cached_catalog_reads_are_never_limited(
    client: httpx.AsyncClient, session: AsyncSession, frozen_limits: FrozenClock
) -> None:
    category = await create_category(session)
    await create_product(session, category=category)
    answers = [await client.get("/api/products/search?q=laptop") for _ in range(150)]
    assert {a.status_code for a in answers} == {200}
    assert "ratelimit" in answers[0].headers  # the miss went through the route's limit
    assert all("ratelimit" not in a.headers for a in answers[1:])  # hits: no limit, no headers


async def test_uncached_searches_are_limited_per_address(
    client: httpx.AsyncClient, frozen_limits: FrozenClock
) -> None:
    searches = [f"/api/products/search?q=term{i}" for i in range(101)]
    assert await codes(client, "GET", searches) == [200] * 100 + [429]
    refused = await client.get("/api/products/search?q=another")
    assert refused.headers["ratelimit-policy"] == '"catalog/1s";q=100;w=1'
    assert refused.headers["retry-after"] == "1"


async def test_listings_and_details_are_not_limited(
    client: httpx.AsyncClient, session: AsyncSession, frozen_limits: FrozenClock
) -> None:
    category = await create_category(session)
    products = [await create_product(session, category=category, name=f"p{i}") for i in range(5)]
    details = [f"/api/products/{p.id}" for p in products]
    listings = [f"/api/products?min_price={i}.00" for i in range(110)]
    assert set(await codes(client, "GET", details + listings)) == {200}


async def test_writes_are_limited_per_principal(
    client: httpx.AsyncClient,
    frozen_limits: FrozenClock,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    create = {"json": {"name": "Org"}, "headers": customer_headers}
    assert await codes(client, "POST", ["/api/organizations"] * 21, **create) == [201] * 20 + [429]
    other = await client.post("/api/organizations", json={"name": "Org"}, headers=other_headers)
    assert other.status_code == 201
    assert '"writes/1s";r=19;t=1' in other.headers["ratelimit"]


async def test_requests_are_limited_per_principal(
    client: httpx.AsyncClient, frozen_limits: FrozenClock, customer_headers: dict[str, str]
) -> None:
    reads = await codes(client, "GET", ["/api/orders"] * 51, headers=customer_headers)
    assert reads == [200] * 50 + [429]


async def test_api_keys_count_per_key_and_organization(
    app: FastAPI,
    client: httpx.AsyncClient,
    frozen_limits: FrozenClock,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    made = await client.post("/api/organizations", json={"name": "Org"}, headers=customer_headers)
    org_id = made.json()["id"]
    key = await create_api_key(client, org_id, customer_headers, "orders:read")
    orders = f"/api/organizations/{org_id}/orders"
    by_user = await client.get(orders, headers=customer_headers)
    by_key = await client.get(orders, headers=key)
    # Its use written now, in this test's transaction: the app's background flush would write
    # it on the same connection while a later request runs.
    await app_state(app).identity.usage.flush()
    assert by_user.status_code == by_key.status_code == 200
    assert '"api_key/' not in by_user.headers["ratelimit"]
    assert '"organization/' not in by_user.headers["ratelimit"]
    assert '"api_key/1s";r=19;t=1' in by_key.headers["ratelimit"]
    assert '"organization/1s";r=49;t=1' in by_key.headers["ratelimit"]
    assert await codes(client, "GET", [orders] * 20, headers=key) == [200] * 19 + [429]
