"""Every domain's tables on one MetaData, for Alembic and the tests."""

from apiforge.kit import Base
from apiforge.shop.accounts.models import RefreshToken, User
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine

metadata = Base.metadata

__all__ = ["Category", "Order", "OrderLine", "Product", "RefreshToken", "User", "metadata"]
