"""The payment provider's events on the wire (a simulated provider, Standard Webhooks signed):

    {"type": "payment.succeeded", "data": {"order_id": 42, "amount": "12.50"}}
    {"type": "payment.failed", "data": {"order_id": 42, "reason": "card_declined"}}

The event's id is its `webhook-id` header (signed with the body, the same on the provider's
retries)."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from apiforge.kit import MoneyMinor, RowId, ShortText
from apiforge.shop.orders.schemas import OrderStatus


class PaymentEventType(StrEnum):
    SUCCEEDED = "payment.succeeded"
    FAILED = "payment.failed"


class PaymentData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order_id: RowId
    amount: MoneyMinor | None = Field(
        default=None, description="What was paid, a decimal string; required when succeeded."
    )
    reason: ShortText | None = None


class PaymentEvent(BaseModel):
    # Providers add fields over time; unknown ones are ignored, known ones must be right.
    model_config = ConfigDict(extra="ignore")

    type: PaymentEventType
    data: PaymentData
    timestamp: Annotated[str | None, Field(max_length=64)] = None


class PaymentReceipt(BaseModel):
    event_id: str
    order_id: int
    order_status: OrderStatus
