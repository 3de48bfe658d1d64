"""Orders over HTTP: place, list mine, read, cancel; and everyone's orders for admins."""

from fastapi import APIRouter

from apiforge.kit.auth.dependencies import CurrentPrincipal
from apiforge.kit.inputs import PathId
from apiforge.kit.openapi import problem_responses
from apiforge.kit.pagination import Page
from apiforge.shop.orders.dependencies import Cursor, Limit, Orders, UserFilter
from apiforge.shop.orders.schemas import OrderCreate, OrderRead
from apiforge.shop.permissions import OrdersAuditor

router = APIRouter(prefix="/api", tags=["orders"])


@router.post(
    "/orders",
    status_code=201,
    summary="Place an order",
    responses=problem_responses(401, 404, 409, 422),
)
async def place_order(body: OrderCreate, principal: CurrentPrincipal, orders: Orders) -> OrderRead:
    return await orders.place(principal.id, body)


@router.get("/orders", summary="My orders, newest first", responses=problem_responses(401, 422))
async def list_my_orders(
    principal: CurrentPrincipal, orders: Orders, limit: Limit = 20, cursor: Cursor = None
) -> Page[OrderRead]:
    return await orders.list_page(user_id=principal.id, cursor=cursor, limit=limit)


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
    responses=problem_responses(401, 403, 422),
)
async def list_all_orders(
    _: OrdersAuditor,
    orders: Orders,
    limit: Limit = 20,
    cursor: Cursor = None,
    user_id: UserFilter = None,
) -> Page[OrderRead]:
    return await orders.list_page(user_id=user_id, cursor=cursor, limit=limit)
