"""Read what the database holds (stock, order rows) to prove what a request did or did not
write, independently of what the API answers."""

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import cross_tenant
from apiforge.shop.catalog.models import Product
from apiforge.shop.orders.models import Order
from apiforge.shop.orders.service import OrderGate, OrderOwner


def own(user_id: int) -> OrderOwner:
    return OrderOwner.personal(user_id)


def placer_gate(user_id: int) -> OrderGate:
    """The router's rule for personal orders, for service tests: only the placer."""

    async def gate(organization_id: int | None, placer: int | None) -> OrderOwner | None:
        return own(user_id) if organization_id is None and placer == user_id else None

    return gate


async def stock_of(session: AsyncSession, product: Product) -> int:
    stock = await session.scalar(select(Product.stock).where(Product.id == product.id))
    assert stock is not None
    return stock


async def count_orders(session: AsyncSession, user_id: int | None = None) -> int:
    query = select(func.count()).select_from(Order)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    return await session.scalar(cross_tenant(query, reason="a test counts every order")) or 0


async def place(
    client: httpx.AsyncClient, headers: dict[str, str], *items: tuple[Product, int]
) -> httpx.Response:
    body = {"items": [{"product_id": p.id, "quantity": q} for p, q in items]}
    return await client.post("/api/orders", json=body, headers=headers)


async def place_ok(
    client: httpx.AsyncClient, headers: dict[str, str], *items: tuple[Product, int]
) -> dict[str, Any]:
    response = await place(client, headers, *items)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def walk_pages(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    limit: int,
    **filters: int,
) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following `next_cursor` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, str | int] = {"limit": limit, **filters}
    while True:
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        if body["next_cursor"] is None:
            return pages
        assert len(pages) < 100, "the listing never ends"
        params = {"limit": limit, **filters, "cursor": body["next_cursor"]}
