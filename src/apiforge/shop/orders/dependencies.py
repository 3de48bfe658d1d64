"""FastAPI wiring for orders: the service bound to the request's unit of work, and the
listing's query parameters."""

from typing import Annotated

from fastapi import Depends, Query

from apiforge.kit.db.session import DbSession
from apiforge.kit.inputs import MAX_BIGINT
from apiforge.kit.pagination import MAX_CURSOR_LENGTH
from apiforge.shop.orders.service import OrderService


async def order_service(session: DbSession) -> OrderService:
    return OrderService(session)


Orders = Annotated[OrderService, Depends(order_service)]
Limit = Annotated[int, Query(ge=1, le=100, description="Orders per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page."),
]
UserFilter = Annotated[
    int | None, Query(ge=1, le=MAX_BIGINT, description="Only this user's orders.")
]
