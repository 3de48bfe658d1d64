from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, BigIntId, WebhookDeliveryMixin, WebhookEndpointMixin, tenant_owned


class WebhookEndpoint(WebhookEndpointMixin, Base):
    """An organization's webhook endpoint (the kit's columns, owned by the organization)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_organization_id_id", "organization_id", "id"),
        tenant_owned("organization_id"),
    )

    organization_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organizations.id", ondelete="CASCADE")
    )


class WebhookDelivery(WebhookDeliveryMixin, Base):
    """One event for one endpoint, with its attempts (reached through its endpoint, whose
    organization decides who may see it)."""

    __tablename__ = "webhook_deliveries"
