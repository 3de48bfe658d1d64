"""FastAPI wiring for orders: the service bound to the request's unit of work (a read session
for the listings and reads, a write session for placing and cancelling), who the caller acts
as (their own orders, an organization's), the gate deciding access to an existing order, and
the listing's query parameters."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from apiforge.kit import (
    CurrentPrincipal,
    ReadSession,
    RowId,
    TenantAccess,
    UserPrincipal,
    WriteSession,
    app_state,
)
from apiforge.shop.orders.service import OrderGate, OrderOwner, OrderService
from apiforge.shop.permissions import ORGANIZATION
from apiforge.shop.settings import shop_settings
from apiforge.shop.tenancy import TENANCY, OrganizationNotFoundError


async def order_reader(session: ReadSession) -> OrderService:
    return OrderService(session)


async def order_writer(request: Request, session: WriteSession) -> OrderService:
    threshold = shop_settings(request.app).catalog.low_stock_threshold
    return OrderService(session, low_stock_threshold=threshold)


async def own_orders(principal: UserPrincipal) -> OrderOwner:
    return OrderOwner.personal(principal.id)


def organization_orders(access: TenantAccess) -> OrderOwner:
    return OrderOwner.organization(access.tenant_id, access.principal)


def order_gate(permission: str) -> Callable[[Request, CurrentPrincipal], Awaitable[OrderGate]]:
    """The gate for an existing order: a personal order is its placer's alone; an
    organization's needs `permission` there (a member's role or an API key's scope). Anyone
    else is told it does not exist."""
    rule = ORGANIZATION[permission]

    async def dependency(request: Request, principal: CurrentPrincipal) -> OrderGate:
        identity = app_state(request.app).identity

        async def gate(organization_id: int | None, user_id: int | None) -> OrderOwner | None:
            if organization_id is None:
                mine = not principal.is_api_key and principal.row_id == user_id
                return OrderOwner.personal(principal.id) if mine else None
            try:
                access = await TENANCY.check(identity, principal, organization_id, rule)
            except OrganizationNotFoundError:
                return None
            return organization_orders(access)

        return gate

    return dependency


OrderReads = Annotated[OrderService, Depends(order_reader)]
OrderWrites = Annotated[OrderService, Depends(order_writer)]
OwnOrders = Annotated[OrderOwner, Depends(own_orders)]
ReadableOrder = Annotated[OrderGate, Depends(order_gate("orders:read"))]
CancellableOrder = Annotated[OrderGate, Depends(order_gate("orders:cancel"))]
Limit = Annotated[int, Query(ge=1, le=100, description="Orders per page.")]
UserFilter = Annotated[RowId | None, Query(description="Only this user's orders.")]
