"""The dashboard's shape: composed of the orders' and the catalog's own read models."""

from pydantic import BaseModel

from apiforge.shop.catalog.schemas import CategorySales, LowStockProduct
from apiforge.shop.orders.schemas import OrderSummary, RecentOrder


class Dashboard(BaseModel):
    """`low_stock` is only ever present for those who manage the catalog (admins); for anyone
    else the key is absent, not empty, so a customer cannot even tell it exists."""

    orders: OrderSummary
    recent_orders: list[RecentOrder]
    top_categories: list[CategorySales]
    low_stock: list[LowStockProduct] | None = None
