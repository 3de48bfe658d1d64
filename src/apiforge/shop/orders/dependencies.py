"""FastAPI wiring for orders: the service bound to the request's unit of work (a read session
for the listings and reads, a write session for placing and cancelling), and the listing's
query parameters."""

from typing import Annotated

from fastapi import Depends, Query

from apiforge.kit import ReadSession, RowId, WriteSession
from apiforge.shop.orders.service import OrderService


async def order_reader(session: ReadSession) -> OrderService:
    return OrderService(session)


async def order_writer(session: WriteSession) -> OrderService:
    return OrderService(session)


OrderReads = Annotated[OrderService, Depends(order_reader)]
OrderWrites = Annotated[OrderService, Depends(order_writer)]
Limit = Annotated[int, Query(ge=1, le=100, description="Orders per page.")]
UserFilter = Annotated[RowId | None, Query(description="Only this user's orders.")]
