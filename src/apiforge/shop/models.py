"""Every domain's tables on one MetaData, for Alembic and the tests."""

from apiforge.kit import Base, DeadJobMixin, IdempotencyKeyMixin
from apiforge.shop.accounts.models import ExternalIdentity, RefreshToken, User
from apiforge.shop.api_keys.models import ApiKey
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.events.models import InboxMessage, OutboxEvent
from apiforge.shop.orders.models import Order, OrderLine, OrderMail
from apiforge.shop.organizations.models import Membership, Organization
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint

metadata = Base.metadata


class IdempotencyKey(IdempotencyKeyMixin, Base):
    """The kit's `Idempotency-Key` table, for the shop's routes that opt in (placing orders)."""

    __tablename__ = "idempotency_keys"


class DeadJobRecord(DeadJobMixin, Base):
    """The kit's dead-letter table: jobs that used up their attempts (`apiforge jobs failed`)."""

    __tablename__ = "dead_jobs"


__all__ = [
    "ApiKey",
    "Category",
    "DeadJobRecord",
    "ExternalIdentity",
    "IdempotencyKey",
    "InboxMessage",
    "Membership",
    "Order",
    "OrderLine",
    "OrderMail",
    "Organization",
    "OutboxEvent",
    "Product",
    "RefreshToken",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
