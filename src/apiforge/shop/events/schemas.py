"""The shop's domain events: their types and the JSON each one carries as `data` in the
envelope `{"id", "type", "aggregate_type", "aggregate_id", "occurred_at", "data"}` (README,
"Outbox and events"). Money is a decimal string, as on the API; no event carries a secret or
a customer's contact details. An organization's order carries its `organization_id`
(webhooks are routed by it); a personal order has `organization_id: null`."""

from typing import TypedDict

ORDER_PLACED = "order.placed"
ORDER_CANCELLED = "order.cancelled"
ORDER_PAID = "order.paid"
PRODUCT_PRICE_CHANGED = "product.price_changed"
STOCK_LOW = "stock.low"
EVENT_TYPES = (ORDER_PLACED, ORDER_CANCELLED, ORDER_PAID, PRODUCT_PRICE_CHANGED, STOCK_LOW)
# A webhook only (never in the outbox or on RabbitMQ): one organization's daily digest.
STOCK_LOW_DIGEST = "stock.low.digest"

ORDER = "order"
PRODUCT = "product"


class OrderItemData(TypedDict):
    product_id: int
    quantity: int
    unit_price: str


class OrderData(TypedDict):
    """`order.placed`, `order.cancelled`, `order.paid`: the order as it is after the change."""

    order_id: int
    organization_id: int | None
    status: str
    total: str
    items: list[OrderItemData]


class PriceChangedData(TypedDict):
    """`product.price_changed`: an admin changed a product's price."""

    product_id: int
    old_price: str
    new_price: str


class StockLowData(TypedDict):
    """`stock.low`: an order or a stock adjustment took the product's stock from above the
    threshold to at or below it (once per crossing, not on every order after)."""

    product_id: int
    name: str
    stock: int
    threshold: int


class StockLowDigestData(TypedDict):
    """`stock.low.digest` (webhooks only): the products the organization has ordered whose
    stock went low during `day` (UTC), each as its last `stock.low` event of the day said."""

    organization_id: int
    day: str
    products: list[StockLowData]
