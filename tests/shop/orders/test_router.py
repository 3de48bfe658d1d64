"""Orders over HTTP: placing, reading and cancelling one's own orders (listings are in
test_listing.py, races in test_races.py). Every test runs on SQLite and on PostgreSQL."""

from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category
from tests.factories import UserWithPassword, create_product
from tests.shop.orders.probes import count_orders, place, place_ok, stock_of

PROBLEM = "application/problem+json"


async def test_place_order_prices_lines_and_takes_stock(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    laptop = await create_product(
        session, category=category, name="Laptop", price_minor=1250, stock=10
    )
    mouse = await create_product(session, category=category, name="Mouse", price_minor=299, stock=5)

    response = await place(client, customer_headers, (mouse, 2), (laptop, 3))

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "placed"
    assert order["total"] == "43.48"  # 2 x 2.99 + 3 x 12.50
    assert order["cancelled_at"] is None
    assert datetime.fromisoformat(order["created_at"]).tzinfo is not None
    assert order["items"] == [  # in the order they were asked for
        {
            "product_id": mouse.id,
            "product_name": "Mouse",
            "quantity": 2,
            "unit_price": "2.99",
            "line_total": "5.98",
        },
        {
            "product_id": laptop.id,
            "product_name": "Laptop",
            "quantity": 3,
            "unit_price": "12.50",
            "line_total": "37.50",
        },
    ]
    assert (await stock_of(session, laptop), await stock_of(session, mouse)) == (7, 3)
    assert await count_orders(session, customer.id) == 1


async def test_the_whole_stock_can_be_bought(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=4)
    await place_ok(client, customer_headers, (product, 4))
    assert await stock_of(session, product) == 0


async def test_insufficient_stock_is_409_and_writes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    plenty = await create_product(session, category=category, name="Plenty", stock=50)
    scarce = await create_product(session, category=category, name="Scarce", stock=1)

    response = await place(client, customer_headers, (plenty, 5), (scarce, 2))

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "orders.insufficient_stock"
    assert problem["product_id"] == scarce.id
    assert str(scarce.id) in problem["detail"]
    assert (await stock_of(session, plenty), await stock_of(session, scarce)) == (50, 1)
    assert await count_orders(session, customer.id) == 0


async def test_unknown_product_is_404(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    real = await create_product(session, category=category, stock=5)
    body = {
        "items": [{"product_id": real.id, "quantity": 1}, {"product_id": 987654321, "quantity": 1}]
    }

    response = await client.post("/api/orders", json=body, headers=customer_headers)

    assert response.status_code == 404
    assert response.json()["code"] == "orders.product_unavailable"
    assert response.json()["product_id"] == 987654321
    assert await stock_of(session, real) == 5
    assert await count_orders(session, customer.id) == 0


async def test_archived_product_cannot_be_ordered(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    archived = await create_product(session, category=category, stock=5, is_archived=True)

    response = await place(client, customer_headers, (archived, 1))

    assert response.status_code == 404
    assert response.json()["code"] == "orders.product_unavailable"
    assert await stock_of(session, archived) == 5
    assert await count_orders(session, customer.id) == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"items": []}, ["body", "items"]),
        ({}, ["body", "items"]),
        ({"items": [{"product_id": 1, "quantity": 0}]}, ["body", "items", "0", "quantity"]),
        ({"items": [{"product_id": 1, "quantity": -3}]}, ["body", "items", "0", "quantity"]),
        ({"items": [{"product_id": 1, "quantity": 1001}]}, ["body", "items", "0", "quantity"]),
        ({"items": [{"product_id": 1, "quantity": 10**20}]}, ["body", "items", "0", "quantity"]),
        ({"items": [{"product_id": 10**20, "quantity": 1}]}, ["body", "items", "0", "product_id"]),
        ({"items": [{"product_id": 0, "quantity": 1}]}, ["body", "items", "0", "product_id"]),
        ({"items": [{"product_id": 1}]}, ["body", "items", "0", "quantity"]),
        (
            {"items": [{"product_id": 1, "quantity": 1, "price": "0.01"}]},
            ["body", "items", "0", "price"],
        ),
        ({"items": [{"product_id": 1, "quantity": 1}], "user_id": 2}, ["body", "user_id"]),
        ({"items": [{"product_id": 1, "quantity": 1}], "total": "0.01"}, ["body", "total"]),
        (
            {"items": [{"product_id": 7, "quantity": 1}, {"product_id": 7, "quantity": 2}]},
            ["body", "items"],
        ),
        ({"items": [{"product_id": i, "quantity": 1} for i in range(1, 52)]}, ["body", "items"]),
        ({"items": "everything"}, ["body", "items"]),
    ],
    ids=[
        "empty-items",
        "no-items",
        "quantity-0",
        "quantity-negative",
        "quantity-over-1000",
        "quantity-huge",
        "product-id-huge",
        "product-id-0",
        "quantity-missing",
        "extra-item-field",
        "extra-field-user-id",
        "extra-field-total",
        "duplicate-product",
        "51-items",
        "items-not-a-list",
    ],
)
async def test_invalid_order_is_422_with_the_field_path(
    client: httpx.AsyncClient,
    session: AsyncSession,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
    body: dict[str, object],
    loc: list[str],
) -> None:
    response = await client.post("/api/orders", json=body, headers=customer_headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "request.validation_failed"
    assert loc in [error["loc"] for error in problem["errors"]]
    assert await count_orders(session, customer.id) == 0


async def test_fifty_items_is_the_most_one_order_takes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    products = [
        await create_product(session, category=category, name=f"P{i}", price_minor=100, stock=1)
        for i in range(50)
    ]
    order = await place_ok(client, customer_headers, *((p, 1) for p in products))
    assert len(order["items"]) == 50
    assert order["total"] == "50.00"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/orders"),
        ("GET", "/api/orders"),
        ("GET", "/api/orders/1"),
        ("POST", "/api/orders/1/cancel"),
        ("GET", "/api/admin/orders"),
    ],
)
async def test_every_orders_route_needs_a_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"items": [{"product_id": 1, "quantity": 1}]} if method == "POST" else None
    response = await client.request(method, path, json=body)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "auth.unauthenticated"


async def test_a_forged_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/orders", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401


async def test_get_my_order(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, price_minor=999, stock=5)
    placed = await place_ok(client, customer_headers, (product, 2))

    response = await client.get(f"/api/orders/{placed['id']}", headers=customer_headers)

    assert response.status_code == 200
    assert response.json() == placed


async def test_someone_elses_order_is_404_like_an_unknown_one(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=5)
    theirs = await place_ok(client, other_headers, (product, 1))

    stolen = await client.get(f"/api/orders/{theirs['id']}", headers=customer_headers)
    unknown = await client.get("/api/orders/987654321", headers=customer_headers)

    for response in (stolen, unknown):
        assert response.status_code == 404
        assert response.json()["code"] == "orders.order_not_found"
    assert stolen.json()["detail"].replace(str(theirs["id"]), "N") == unknown.json()[
        "detail"
    ].replace("987654321", "N")


@pytest.mark.parametrize("order_id", ["0", "-1", str(2**63), "abc"])
async def test_bad_order_id_is_422(
    client: httpx.AsyncClient, customer_headers: dict[str, str], order_id: str
) -> None:
    response = await client.get(f"/api/orders/{order_id}", headers=customer_headers)
    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"


async def test_cancel_restocks_and_cancelling_twice_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    first = await create_product(session, category=category, name="First", stock=10)
    second = await create_product(session, category=category, name="Second", stock=3)
    placed = await place_ok(client, customer_headers, (first, 4), (second, 3))
    assert (await stock_of(session, first), await stock_of(session, second)) == (6, 0)

    response = await client.post(f"/api/orders/{placed['id']}/cancel", headers=customer_headers)

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert datetime.fromisoformat(cancelled["cancelled_at"]) >= datetime.fromisoformat(
        placed["created_at"]
    )
    assert cancelled["items"] == placed["items"]
    assert cancelled["total"] == placed["total"]
    assert (await stock_of(session, first), await stock_of(session, second)) == (10, 3)
    shown = await client.get(f"/api/orders/{placed['id']}", headers=customer_headers)
    assert shown.json() == cancelled

    again = await client.post(f"/api/orders/{placed['id']}/cancel", headers=customer_headers)

    assert again.status_code == 409
    assert again.json()["code"] == "orders.already_cancelled"
    assert (await stock_of(session, first), await stock_of(session, second)) == (10, 3)


async def test_cancel_restocks_a_product_archived_since(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=5)
    placed = await place_ok(client, customer_headers, (product, 2))
    product.is_archived = True
    await session.flush()

    response = await client.post(f"/api/orders/{placed['id']}/cancel", headers=customer_headers)

    assert response.status_code == 200
    assert await stock_of(session, product) == 5


async def test_cancelling_someone_elses_order_is_404_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    category: Category,
    customer_headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    product = await create_product(session, category=category, stock=5)
    theirs = await place_ok(client, other_headers, (product, 2))

    response = await client.post(f"/api/orders/{theirs['id']}/cancel", headers=customer_headers)

    assert response.status_code == 404
    assert response.json()["code"] == "orders.order_not_found"
    assert await stock_of(session, product) == 3
    still = await client.get(f"/api/orders/{theirs['id']}", headers=other_headers)
    assert still.json()["status"] == "placed"


async def test_cancelling_an_unknown_order_is_404(
    client: httpx.AsyncClient, customer_headers: dict[str, str]
) -> None:
    response = await client.post("/api/orders/987654321/cancel", headers=customer_headers)
    assert response.status_code == 404
    assert response.json()["code"] == "orders.order_not_found"
