"""Orders over HTTP: place, list mine, read, cancel; and everyone's orders for admins."""

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from apiforge.kit.auth.dependencies import CurrentPrincipal
from apiforge.kit.cache import PRIVATE_NO_STORE, RenderedJson
from apiforge.kit.inputs import PathId
from apiforge.kit.openapi import problem_responses
from apiforge.kit.pagination import Page
from apiforge.shop.orders.dependencies import Cursor, Limit, Orders, UserFilter
from apiforge.shop.orders.schemas import OrderCreate, OrderRead
from apiforge.shop.permissions import OrdersAuditor

router = APIRouter(prefix="/api", tags=["orders"])
LISTING: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is still current"}
}


def private_json(request: Request, payload: object) -> Response:
    """Listings are rendered straight to JSON bytes (see schemas.py), with an ETag, and are
    never stored by clients: they belong to the caller."""
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    return RenderedJson.of(body).response(
        if_none_match=request.headers.get("if-none-match"), cache_control=PRIVATE_NO_STORE
    )


@router.post(
    "/orders",
    status_code=201,
    summary="Place an order",
    responses=problem_responses(401, 404, 409, 422),
)
async def place_order(body: OrderCreate, principal: CurrentPrincipal, orders: Orders) -> OrderRead:
    return await orders.place(principal.id, body)


@router.get(
    "/orders",
    summary="My orders, newest first",
    response_model=Page[OrderRead],
    responses=LISTING | problem_responses(401, 422),
)
async def list_my_orders(
    request: Request,
    principal: CurrentPrincipal,
    orders: Orders,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    page = await orders.list_page(user_id=principal.id, cursor=cursor, limit=limit)
    return private_json(request, page)


@router.get(
    "/orders/{order_id}", summary="One of my orders", responses=problem_responses(401, 404, 422)
)
async def get_order(order_id: PathId, principal: CurrentPrincipal, orders: Orders) -> OrderRead:
    return await orders.get(principal.id, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel one of my orders and restock",
    responses=problem_responses(401, 404, 409, 422),
)
async def cancel_order(order_id: PathId, principal: CurrentPrincipal, orders: Orders) -> OrderRead:
    return await orders.cancel(principal.id, order_id)


@router.get(
    "/admin/orders",
    summary="Everyone's orders, newest first (admin)",
    response_model=Page[OrderRead],
    responses=LISTING | problem_responses(401, 403, 422),
)
async def list_all_orders(
    request: Request,
    _: OrdersAuditor,
    orders: Orders,
    limit: Limit = 20,
    cursor: Cursor = None,
    user_id: UserFilter = None,
) -> Response:
    page = await orders.list_page(user_id=user_id, cursor=cursor, limit=limit)
    return private_json(request, page)
