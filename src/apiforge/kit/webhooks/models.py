"""The webhook tables, as mixins a service maps onto its own metadata with the names below and
its tenant column (so the tables are in the service's migrations only when it opts in):

    class WebhookEndpoint(WebhookEndpointMixin, Base):
        __tablename__ = "webhook_endpoints"
        __table_args__ = (tenant_owned("organization_id"),)
        organization_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("organizations.id"))

    class WebhookDelivery(WebhookDeliveryMixin, Base):
        __tablename__ = "webhook_deliveries"

Not for: the rules of dispatching and delivering (kit.webhooks.dispatcher, .sender)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from apiforge.kit.db.base import BigIntId, CreatedAt, IdPk, UTCDateTime

ENDPOINTS_TABLE = "webhook_endpoints"
DELIVERIES_TABLE = "webhook_deliveries"


class EndpointStatus(StrEnum):
    """`active` receives deliveries; `paused` kept failing (see `paused_reason`) and receives
    none until re-enabled; `disabled` was turned off by its owner."""

    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    """`pending` waits for its next attempt (`next_attempt_at`); `succeeded` got a 2xx;
    `failed` used up the retry schedule; `cancelled` belonged to a deleted endpoint."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WebhookEndpointMixin:
    """Where an owner wants events sent. `secret` signs every delivery: shown once when the
    endpoint is created, kept here to sign (sealed, with a `SecretSealer`), never logged or
    returned again. `event_types` is
    space-separated. `failing_since`: the first failed attempt since the last success."""

    id: Mapped[IdPk]
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[str] = mapped_column(String(1000))
    # Sealed at rest when the service seals (kit.webhooks.sealing): ~125 characters.
    secret: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=EndpointStatus.ACTIVE.value)
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[CreatedAt]

    def subscribed(self, event_type: str) -> bool:
        return event_type in self.event_types.split(" ")


class WebhookDeliveryMixin:
    """One event for one endpoint, with its attempts. `message_id` is the `webhook-id` the
    receiver sees, the same on every retry (so it can deduplicate); one row per (endpoint,
    event) makes accepting an event twice a no-op. `locked_until` is the lease of the worker
    sending it, so two workers never send the same attempt."""

    id: Mapped[IdPk]
    event_id: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[CreatedAt]

    @declared_attr
    def endpoint_id(cls) -> Mapped[int]:  # noqa: N805  # a declared_attr
        return mapped_column(BigIntId, ForeignKey(f"{ENDPOINTS_TABLE}.id", ondelete="CASCADE"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint | Index, ...]:  # noqa: N805  # a declared_attr
        return (
            UniqueConstraint("endpoint_id", "event_id"),
            Index(f"ix_{DELIVERIES_TABLE}_endpoint_id_id", "endpoint_id", "id"),
            Index(f"ix_{DELIVERIES_TABLE}_status_next_attempt_at", "status", "next_attempt_at"),
        )
