"""Orders for an organization: buyers (and `orders:write` keys) place them on its account,
every member (and `orders:read` keys) reads them, buyers cancel them; a personal order stays
its placer's alone; and `/api/orders/{id}` serves both kinds, telling anyone else that the
order does not exist."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.service import OrderService
from tests.answers import assert_problem
from tests.conftest import Org
from tests.factories import UserWithPassword, create_api_key, create_product
from tests.shop.orders.probes import place_ok, stock_of


@pytest.fixture
async def product(session: AsyncSession, category: Category) -> Product:
    return await create_product(session, category=category, stock=10, price_minor=250)


def _body(product: Product, quantity: int = 1) -> dict[str, Any]:
    return {"items": [{"product_id": product.id, "quantity": quantity}]}


async def _place_for(
    client: httpx.AsyncClient, org: Org, headers: dict[str, str], product: Product
) -> dict[str, Any]:
    response = await client.post(
        f"/api/organizations/{org.id}/orders", json=_body(product), headers=headers
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_buyers_place_on_the_organizations_account(
    client: httpx.AsyncClient, session: AsyncSession, org: Org, product: Product
) -> None:
    order = await _place_for(client, org, org.headers["buyer"], product)
    assert (order["organization_id"], order["total"]) == (org.id, "2.50")
    assert await stock_of(session, product) == 9
    refused = await client.post(
        f"/api/organizations/{org.id}/orders", json=_body(product), headers=org.headers["viewer"]
    )
    assert_problem(refused, 403, "auth.permission_denied")
    assert await stock_of(session, product) == 9  # a refusal takes nothing


async def test_every_member_reads_the_organizations_orders_and_nobody_else(
    client: httpx.AsyncClient,
    org: Org,
    other_org: Org,
    product: Product,
    customer_headers: dict[str, str],
) -> None:
    placed = await _place_for(client, org, org.headers["owner"], product)
    mine = await place_ok(client, org.headers["buyer"], (product, 1))  # a personal one
    for role in ("viewer", "buyer", "admin", "owner"):
        listed = await client.get(f"/api/organizations/{org.id}/orders", headers=org.headers[role])
        assert [o["id"] for o in listed.json()["items"]] == [placed["id"]]
        one = await client.get(f"/api/orders/{placed['id']}", headers=org.headers[role])
        assert one.json()["id"] == placed["id"]
    for stranger in (other_org.headers["owner"], customer_headers):
        for url in (f"/api/orders/{placed['id']}", f"/api/organizations/{org.id}/orders"):
            assert (await client.get(url, headers=stranger)).status_code == 404
    # The buyer's personal order is theirs alone: not the organization's, not in its list.
    assert (await client.get(f"/api/orders/{mine['id']}", headers=org.headers["buyer"])).json()[
        "organization_id"
    ] is None
    owner_view = await client.get(f"/api/orders/{mine['id']}", headers=org.headers["owner"])
    assert_problem(owner_view, 404, "orders.order_not_found")


async def test_my_orders_are_my_personal_ones(
    client: httpx.AsyncClient, session: AsyncSession, org: Org, product: Product
) -> None:
    await _place_for(client, org, org.headers["buyer"], product)
    mine = await place_ok(client, org.headers["buyer"], (product, 1))
    listed = await client.get("/api/orders", headers=org.headers["buyer"])
    assert [o["id"] for o in listed.json()["items"]] == [mine["id"]]
    # The dashboard's figures too (read through its service: the dashboard fans out on
    # connections of its own, which a rolled-back test transaction cannot lend it).
    summary = await OrderService(session).summary(org.users["buyer"].id)
    assert summary.count == 1


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("buyer", 200), ("owner", 200)])
async def test_buyers_and_above_cancel_the_organizations_orders(
    client: httpx.AsyncClient,
    session: AsyncSession,
    org: Org,
    product: Product,
    role: str,
    status: int,
) -> None:
    placed = await _place_for(client, org, org.headers["buyer"], product)
    response = await client.post(f"/api/orders/{placed['id']}/cancel", headers=org.headers[role])
    assert response.status_code == status, response.text
    assert await stock_of(session, product) == (10 if status == 200 else 9)


async def test_strangers_cannot_cancel_and_learn_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    org: Org,
    other_org: Org,
    product: Product,
    other_customer: UserWithPassword,
    other_headers: dict[str, str],
) -> None:
    placed = await _place_for(client, org, org.headers["buyer"], product)
    personal = await place_ok(client, org.headers["buyer"], (product, 1))
    for order_id, headers in [
        (placed["id"], other_org.headers["owner"]),
        (placed["id"], other_headers),
        (personal["id"], org.headers["owner"]),  # a colleague's personal order
        (personal["id"], other_headers),
    ]:
        response = await client.post(f"/api/orders/{order_id}/cancel", headers=headers)
        assert_problem(response, 404, "orders.order_not_found")
    assert await stock_of(session, product) == 8


async def test_keys_work_on_their_organizations_orders_by_scope(
    client: httpx.AsyncClient, org: Org, other_org: Org, product: Product
) -> None:
    writer = await create_api_key(client, org.id, org.headers["admin"], "orders:write")
    reader = await create_api_key(client, org.id, org.headers["admin"], "orders:read")
    foreign = await create_api_key(client, other_org.id, other_org.headers["owner"], "orders:read")
    placed = await _place_for(client, org, writer, product)
    assert placed["organization_id"] == org.id

    assert (await client.get(f"/api/orders/{placed['id']}", headers=reader)).status_code == 200
    no_read = await client.get(f"/api/orders/{placed['id']}", headers=writer)
    assert_problem(no_read, 403, "auth.permission_denied")
    foreign_read = await client.get(f"/api/orders/{placed['id']}", headers=foreign)
    assert_problem(foreign_read, 404, "orders.order_not_found")
    cancel_without_write = await client.post(f"/api/orders/{placed['id']}/cancel", headers=reader)
    assert_problem(cancel_without_write, 403, "auth.permission_denied")
    cancelled = await client.post(f"/api/orders/{placed['id']}/cancel", headers=writer)
    assert cancelled.json()["status"] == "cancelled"


async def test_platform_admins_see_every_order_but_only_through_their_listing(
    client: httpx.AsyncClient, org: Org, product: Product, admin_headers: dict[str, str]
) -> None:
    placed = await _place_for(client, org, org.headers["buyer"], product)
    listed = await client.get("/api/admin/orders", headers=admin_headers)
    assert [o["id"] for o in listed.json()["items"]] == [placed["id"]]
    direct = await client.get(f"/api/orders/{placed['id']}", headers=admin_headers)
    assert_problem(
        direct, 404, "orders.order_not_found"
    )  # not a member: an org role, not a platform one
