"""Every domain's tables on one MetaData, for Alembic and the tests."""

from apiforge.kit import Base
from apiforge.shop.accounts.models import ExternalIdentity, RefreshToken, User
from apiforge.shop.api_keys.models import ApiKey
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine
from apiforge.shop.organizations.models import Membership, Organization

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Category",
    "ExternalIdentity",
    "Membership",
    "Order",
    "OrderLine",
    "Organization",
    "Product",
    "RefreshToken",
    "User",
    "metadata",
]
