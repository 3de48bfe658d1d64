"""The payment provider's webhook: signed events that an order was paid (or a payment failed)."""

from fastapi import APIRouter, status

from apiforge.kit import problem_responses, rate_limit
from apiforge.shop.payments.dependencies import Payments, VerifiedPaymentEvent
from apiforge.shop.payments.schemas import PaymentReceipt
from apiforge.shop.ratelimits import CATALOG

router = APIRouter(prefix="/api/webhooks", tags=["payments"])


@router.post(
    "/payments",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(400, 404, 409, 422),
    dependencies=[rate_limit(CATALOG)],
)
async def receive_payment_event(event: VerifiedPaymentEvent, payments: Payments) -> PaymentReceipt:
    """For the payment provider, not for clients. Standard Webhooks signed (`webhook-id`,
    `webhook-timestamp` within 5 minutes of our clock, `webhook-signature` with the shared
    secret): anything else is a 400 before the body is parsed. Each `webhook-id` is applied
    once: a replay is a 409 that changes nothing. `payment.succeeded` with the order's total
    makes the order `paid` (a paid order can no longer be cancelled); an unknown order is a
    404, a cancelled one or a wrong amount a 409. Without a configured provider secret the
    route answers 404."""
    event_id, body = event
    return await payments.apply(event_id, body)
