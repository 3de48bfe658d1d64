"""Every domain's tables on one MetaData, for Alembic and the tests."""

from apiforge.kit import Base, IdempotencyKeyMixin
from apiforge.shop.accounts.models import ExternalIdentity, RefreshToken, User
from apiforge.shop.api_keys.models import ApiKey
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine
from apiforge.shop.organizations.models import Membership, Organization
from apiforge.shop.payments.models import PaymentInboxMessage
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint

metadata = Base.metadata


class IdempotencyKey(IdempotencyKeyMixin, Base):
    """The kit's `Idempotency-Key` table, for the shop's routes that opt in (placing orders)."""

    __tablename__ = "idempotency_keys"


__all__ = [
    "ApiKey",
    "Category",
    "ExternalIdentity",
    "IdempotencyKey",
    "Membership",
    "Order",
    "OrderLine",
    "Organization",
    "PaymentInboxMessage",
    "Product",
    "RefreshToken",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
