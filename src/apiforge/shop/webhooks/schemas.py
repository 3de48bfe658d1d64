"""Webhook endpoints and deliveries on the wire. The secret appears once, in the creation
answer (`WebhookEndpointCreated.secret`); listings never show it."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from apiforge.kit import ShortText


class EventType(StrEnum):
    """The events an endpoint may subscribe to. Order events are the organization's own;
    `stock.low` and `product.price_changed` concern the shared catalog and go to every
    endpoint subscribed to them, as they happen. `stock.low.digest` is a subscription of its
    own: once a day, the products the organization has ordered whose stock went low the day
    before (a receiver chooses each crossing as it happens, the daily list, or both)."""

    ORDER_PLACED = "order.placed"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_PAID = "order.paid"
    PRODUCT_PRICE_CHANGED = "product.price_changed"
    STOCK_LOW = "stock.low"
    STOCK_LOW_DIGEST = "stock.low.digest"


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=8, max_length=2048)]
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]
    description: ShortText | None = None


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        description="false disables the endpoint; true enables it again (a paused one too)."
    )


class WebhookEndpointRead(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[EventType]
    status: str = Field(description="active, paused (kept failing: see paused_reason) or disabled")
    paused_reason: str | None
    failing_since: datetime | None
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(
        description="The signing secret (whsec_...): shown this once, never again. Verify "
        "each delivery's webhook-signature with it (Standard Webhooks)."
    )


class WebhookDeliveryRead(BaseModel):
    id: int
    endpoint_id: int
    event_id: str
    message_id: str = Field(description="The webhook-id header; the same on every retry.")
    event_type: str
    status: str = Field(description="pending, succeeded, failed or cancelled")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryStatus(StrEnum):
    """A delivery's state, to filter the organization's listing by."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
