"""Orders over HTTP: place, list mine, read, cancel; and everyone's orders for admins."""

import orjson
from fastapi import APIRouter, Request, Response

from apiforge.kit import (
    CurrentPrincipal,
    Page,
    PageCursor,
    PathId,
    RenderedJson,
    private_no_store,
    problem_responses,
)
from apiforge.shop.orders.dependencies import Limit, OrderReads, OrderWrites, UserFilter
from apiforge.shop.orders.schemas import OrderCreate, OrderRead
from apiforge.shop.permissions import OrdersAuditor

router = APIRouter(prefix="/api", tags=["orders"])


def private_json(request: Request, payload: object) -> Response:
    """Listings are rendered straight to JSON bytes (see schemas.py), with an ETag, and are
    never stored by clients: they belong to the caller."""
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    return RenderedJson.of(body).response(
        if_none_match=request.headers.get("if-none-match"), cache_control=private_no_store()
    )


@router.post(
    "/orders",
    status_code=201,
    summary="Place an order",
    responses=problem_responses(401, 404, 409, 422),
)
async def place_order(
    body: OrderCreate, principal: CurrentPrincipal, orders: OrderWrites
) -> OrderRead:
    return await orders.place(principal.id, body)


@router.get(
    "/orders",
    summary="My orders, newest first",
    response_model=Page[OrderRead],
    responses=problem_responses(304, 401, 422),
)
async def list_my_orders(
    request: Request,
    principal: CurrentPrincipal,
    orders: OrderReads,
    limit: Limit = 20,
    cursor: PageCursor = None,
) -> Response:
    page = await orders.list_page(user_id=principal.id, cursor=cursor, limit=limit)
    return private_json(request, page)


@router.get(
    "/orders/{order_id}", summary="One of my orders", responses=problem_responses(401, 404, 422)
)
async def get_order(order_id: PathId, principal: CurrentPrincipal, orders: OrderReads) -> OrderRead:
    return await orders.get(principal.id, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel one of my orders and restock",
    responses=problem_responses(401, 404, 409, 422),
)
async def cancel_order(
    order_id: PathId, principal: CurrentPrincipal, orders: OrderWrites
) -> OrderRead:
    return await orders.cancel(principal.id, order_id)


@router.get(
    "/admin/orders",
    summary="Everyone's orders, newest first (admin)",
    response_model=Page[OrderRead],
    responses=problem_responses(304, 401, 403, 422),
)
async def list_all_orders(
    request: Request,
    _: OrdersAuditor,
    orders: OrderReads,
    limit: Limit = 20,
    cursor: PageCursor = None,
    user_id: UserFilter = None,
) -> Response:
    page = await orders.list_page(user_id=user_id, cursor=cursor, limit=limit)
    return private_json(request, page)
