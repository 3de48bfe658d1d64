"""Orders on the wire. Money is a decimal string (kit `MoneyMinor`), computed on the server.

Output models are built with `model_construct` from rows the database already checked:
`MoneyMinor` validates wire strings only, and re-validating our own rows would cost CPU on the
hot path for nothing. The listings, the hottest read, skip models altogether: plain dicts of
the same shape (`OrdersPageJSON`) rendered by orjson, a fraction of the models' cost
(BENCHMARKS.md, "Hot-path decisions")."""

from datetime import datetime
from typing import Annotated, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from apiforge.kit import MoneyMinor, RowId, format_minor
from apiforge.shop.events.schemas import OrderData, OrderItemData

MAX_ITEMS = 50
MAX_QUANTITY = 1000

OrderStatus = Literal["placed", "cancelled", "paid"]


class OrderItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: RowId
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class OrderCreate(BaseModel):
    """One line per product: a product listed twice is a 422 rather than silently merged, so
    a client bug (a double-click appending the same item) is caught instead of doubling it."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[OrderItemCreate], Field(min_length=1, max_length=MAX_ITEMS)]

    @field_validator("items")
    @classmethod
    def _one_line_per_product(cls, items: list[OrderItemCreate]) -> list[OrderItemCreate]:
        seen: set[int] = set()
        for item in items:
            if item.product_id in seen:
                raise ValueError(
                    f"product {item.product_id} is listed more than once; "
                    "send one item per product with the total quantity"
                )
            seen.add(item.product_id)
        return items


class OrderLineRead(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    unit_price: MoneyMinor
    line_total: MoneyMinor


class OrderRead(BaseModel):
    id: int
    organization_id: int | None = Field(
        description="The organization the order was placed for; null for a personal order."
    )
    status: OrderStatus
    total: MoneyMinor
    created_at: datetime
    cancelled_at: datetime | None
    items: list[OrderLineRead]


class OrderLineJSON(TypedDict):
    product_id: int
    product_name: str
    quantity: int
    unit_price: str
    line_total: str


class OrderJSON(TypedDict):
    """`OrderRead` as plain data, for listings rendered straight to JSON."""

    id: int
    organization_id: int | None
    status: OrderStatus
    total: str
    created_at: datetime
    cancelled_at: datetime | None
    items: list[OrderLineJSON]


class OrdersPageJSON(TypedDict):
    items: list[OrderJSON]
    next_cursor: str | None


class OrderSummary(BaseModel):
    """`count`: all the user's orders, cancelled ones included; `total_spent`: placed and paid
    ones (a cancelled order is not charged)."""

    count: int
    total_spent: MoneyMinor


class RecentOrder(BaseModel):
    id: int
    status: OrderStatus
    total: MoneyMinor
    created_at: datetime


def order_event_data(order: OrderRead) -> OrderData:
    """The `data` of the order's events (`order.placed`, `.cancelled`, `.paid`)."""
    return OrderData(
        order_id=order.id,
        organization_id=order.organization_id,
        status=order.status,
        total=format_minor(order.total),
        items=[
            OrderItemData(
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price=format_minor(item.unit_price),
            )
            for item in order.items
        ],
    )
