"""`Idempotency-Key` on placing orders: a retry gets the first answer replayed (errors too), a
changed body is 422, another user's equal key is another order, a key still in flight is 409,
and a claim whose request died is taken over after its lease."""

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, utcnow
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.models import IdempotencyKey
from tests.answers import assert_problem
from tests.conftest import Org
from tests.factories import UserWithPassword, create_product
from tests.shop.orders.probes import count_orders, stock_of


def _order(product: Product, quantity: int = 1) -> dict[str, object]:
    return {"items": [{"product_id": product.id, "quantity": quantity}]}


def _with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


@pytest.fixture
async def product(session: AsyncSession, category: Category) -> Product:
    return await create_product(session, category=category, stock=10)


async def test_a_retry_replays_the_first_answer(
    client: httpx.AsyncClient,
    session: AsyncSession,
    product: Product,
    customer_headers: dict[str, str],
) -> None:
    headers = _with_key(customer_headers, "order-7f3a")
    first = await client.post("/api/orders", json=_order(product, 2), headers=headers)
    again = await client.post("/api/orders", json=_order(product, 2), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == "application/json"
    assert await stock_of(session, product) == 8  # taken once
    assert await count_orders(session) == 1


async def test_the_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, product: Product, customer_headers: dict[str, str]
) -> None:
    headers = _with_key(customer_headers, "k1")
    assert (
        await client.post("/api/orders", json=_order(product), headers=headers)
    ).status_code == 201
    changed = await client.post("/api/orders", json=_order(product, 3), headers=headers)
    assert_problem(changed, 422, "idempotency.key_reused")
    elsewhere = await client.post(
        "/api/organizations/1/orders", json=_order(product), headers=headers
    )
    assert elsewhere.status_code in (404, 422)  # another route: never a replay of this answer
    assert "idempotent-replayed" not in elsewhere.headers


async def test_keys_belong_to_their_principal(
    client: httpx.AsyncClient,
    session: AsyncSession,
    product: Product,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    mine = await client.post(
        "/api/orders", json=_order(product), headers=_with_key(customer_headers, "same")
    )
    theirs = await client.post(
        "/api/orders", json=_order(product), headers=_with_key(other_headers, "same")
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert await count_orders(session) == 2


async def test_a_refusal_is_replayed_too(
    client: httpx.AsyncClient,
    session: AsyncSession,
    product: Product,
    customer_headers: dict[str, str],
) -> None:
    headers = _with_key(customer_headers, "too-many")
    refused = await client.post("/api/orders", json=_order(product, 50), headers=headers)
    problem = assert_problem(refused, 409, "orders.insufficient_stock")
    await session.execute(update(Product).where(Product.id == product.id).values(stock=100))
    await session.flush()
    replayed = await client.post("/api/orders", json=_order(product, 50), headers=headers)
    assert replayed.status_code == 409
    assert replayed.json() == problem  # the first answer, request ID included
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.headers["idempotent-replayed"] == "true"
    assert await count_orders(session) == 0


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"has space", "ключ".encode()])
async def test_a_malformed_key_is_400_and_places_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    product: Product,
    customer_headers: dict[str, str],
    key: bytes,
) -> None:
    headers = {name.encode(): value.encode() for name, value in customer_headers.items()}
    headers[b"Idempotency-Key"] = key
    response = await client.post("/api/orders", json=_order(product), headers=headers)
    assert_problem(response, 400, "idempotency.key_invalid")
    assert await count_orders(session) == 0


async def test_an_organizations_orders_take_keys(
    client: httpx.AsyncClient, session: AsyncSession, product: Product, org: Org
) -> None:
    url = f"/api/organizations/{org.id}/orders"
    headers = _with_key(org.headers["buyer"], "po-1")
    first = await client.post(url, json=_order(product), headers=headers)
    again = await client.post(url, json=_order(product), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert await stock_of(session, product) == 9


async def test_a_key_in_flight_is_409_until_its_lease_runs_out(
    client: httpx.AsyncClient,
    session: AsyncSession,
    product: Product,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    """A claim left behind by a request that died: refused while its lease runs, taken over
    after."""
    now = utcnow()
    session.add(
        IdempotencyKey(
            scope=str(customer.id),
            key="crashed",
            fingerprint="",  # filled below from a real attempt's
            state="in_progress",
            owner="dead",
            locked_until=now + timedelta(seconds=60),
            expires_at=now + timedelta(days=1),
        )
    )
    await session.flush()
    headers = _with_key(customer_headers, "crashed")
    # The fingerprint must match for the key to be the same request: learn it from a probe.
    probe = await client.post(
        "/api/orders", json=_order(product), headers=_with_key(customer_headers, "probe")
    )
    assert probe.status_code == 201
    fingerprint = await session.scalar(
        select(IdempotencyKey.fingerprint).where(IdempotencyKey.key == "probe")
    )
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "crashed")
        .values(fingerprint=fingerprint)
    )
    await session.flush()

    in_flight = await client.post("/api/orders", json=_order(product), headers=headers)
    assert_problem(in_flight, 409, "idempotency.in_progress")
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "crashed")
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    await session.flush()
    taken_over = await client.post("/api/orders", json=_order(product), headers=headers)
    assert taken_over.status_code == 201
    assert await stock_of(session, product) == 8


@pytest.mark.committed
@pytest.mark.usefixtures("unlimited")
async def test_a_hundred_concurrent_retries_place_one_order(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=1000)
    await session.commit()
    headers = _with_key(customer_headers, "burst")
    responses = await asyncio.gather(
        *(client.post("/api/orders", json=_order(product), headers=headers) for _ in range(100))
    )
    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code >= 500][:3]
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in created) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["code"] == "idempotency.in_progress"
    assert await count_orders(session) == 1
    assert await stock_of(session, product) == 999


@pytest.mark.committed
@pytest.mark.usefixtures("unlimited")
async def test_a_hundred_buyers_for_ten_units_get_exactly_ten(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    """No keys here: the stock's row lock (PostgreSQL) or the single writer (SQLite) alone
    keeps the count exact, and nothing answers 5xx ("database is locked" included)."""
    product = await create_product(session, category=category, stock=10)
    await session.commit()
    responses = await asyncio.gather(
        *(
            client.post("/api/orders", json=_order(product), headers=customer_headers)
            for _ in range(100)
        )
    )
    statuses = [r.status_code for r in responses]
    assert (statuses.count(201), statuses.count(409)) == (10, 90), [
        r.text for r in responses if r.status_code not in (201, 409)
    ][:3]
    assert await stock_of(session, product) == 0
    assert await count_orders(session) == 10


async def test_expired_keys_are_pruned(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    product: Product,
    customer_headers: dict[str, str],
) -> None:
    from apiforge.kit import IdempotencyStore

    for key in ("old", "new"):
        headers = _with_key(customer_headers, key)
        assert (
            await client.post("/api/orders", json=_order(product), headers=headers)
        ).status_code == 201
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.key == "old").values(expires_at=utcnow())
    )
    await session.flush()
    store = IdempotencyStore(IdempotencyKey, lease_seconds=60, ttl_seconds=3600)
    assert await store.prune(database) == 1
    left = await session.scalar(select(func.count()).select_from(IdempotencyKey))
    assert left == 1
