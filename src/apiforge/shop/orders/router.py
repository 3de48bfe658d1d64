"""Orders over HTTP: place, list mine, read, cancel; an organization's orders (list, place);
and everyone's orders for platform admins."""

from fastapi import APIRouter, Request, Response

from apiforge.kit import (
    Idempotent,
    Page,
    PageCursor,
    PathId,
    RenderedJson,
    private_no_store,
    problem_responses,
    rate_limit,
)
from apiforge.shop.orders.dependencies import (
    CancellableOrder,
    Limit,
    OrderReads,
    OrderWrites,
    OwnOrders,
    ReadableOrder,
    UserFilter,
    organization_orders,
)
from apiforge.shop.orders.schemas import OrderCreate, OrderRead
from apiforge.shop.orders.service import render_page
from apiforge.shop.permissions import OrdersAuditor
from apiforge.shop.ratelimits import AUTHENTICATED, WRITES
from apiforge.shop.tenancy import OrgOrdersBuyer, OrgOrdersReader

router = APIRouter(prefix="/api", tags=["orders"], dependencies=[rate_limit(*AUTHENTICATED)])


def private_json(request: Request, body: bytes) -> Response:
    """Listings are rendered straight to JSON bytes (see schemas.py), with an ETag, and are
    never stored by clients: they belong to the caller."""
    return RenderedJson.of(body).response(
        if_none_match=request.headers.get("if-none-match"), cache_control=private_no_store()
    )


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderRead,
    summary="Place an order of my own",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def place_order(
    body: OrderCreate, owner: OwnOrders, orders: OrderWrites, idempotency: Idempotent
) -> Response:
    """With an `Idempotency-Key` header, a retry gets the first answer replayed (marked
    `Idempotent-Replayed: true`) instead of placing a second order."""
    return await idempotency.respond(201, await orders.place(owner, body))


@router.get(
    "/orders",
    summary="My own orders, newest first",
    response_model=Page[OrderRead],
    responses=problem_responses(304, 401, 403, 422),
)
async def list_my_orders(
    request: Request,
    owner: OwnOrders,
    orders: OrderReads,
    limit: Limit = 20,
    cursor: PageCursor = None,
) -> Response:
    return private_json(request, await orders.page_json(owner, cursor=cursor, limit=limit))


@router.get(
    "/orders/{order_id}",
    summary="One order: my own, or my organization's",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_order(order_id: PathId, gate: ReadableOrder, orders: OrderReads) -> OrderRead:
    return await orders.get(order_id, gate)


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel an order (my own, or my organization's as a buyer) and restock",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def cancel_order(order_id: PathId, gate: CancellableOrder, orders: OrderWrites) -> OrderRead:
    return await orders.cancel(order_id, gate)


@router.get(
    "/organizations/{org_id}/orders",
    summary="The organization's orders, newest first",
    response_model=Page[OrderRead],
    responses=problem_responses(304, 401, 403, 404, 422),
)
async def list_organization_orders(
    request: Request,
    access: OrgOrdersReader,
    orders: OrderReads,
    limit: Limit = 20,
    cursor: PageCursor = None,
) -> Response:
    page = await orders.page_json(organization_orders(access), cursor=cursor, limit=limit)
    return private_json(request, page)


@router.post(
    "/organizations/{org_id}/orders",
    status_code=201,
    response_model=OrderRead,
    summary="Place an order for the organization (buyers and above, or orders:write keys)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def place_organization_order(
    body: OrderCreate, access: OrgOrdersBuyer, orders: OrderWrites, idempotency: Idempotent
) -> Response:
    """Takes an `Idempotency-Key` header, as placing a personal order does."""
    return await idempotency.respond(201, await orders.place(organization_orders(access), body))


@router.get(
    "/admin/orders",
    summary="Everyone's orders, newest first (platform admins)",
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
    page = await orders.list_all(user_id=user_id, cursor=cursor, limit=limit)
    return private_json(request, render_page(page))
