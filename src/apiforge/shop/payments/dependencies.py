"""FastAPI wiring for the payment webhook: the raw body verified (signature and timestamp,
constant time) before anything parses it, then parsed; and the service bound to the request's
unit of work."""

from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError

from apiforge.kit import Jobs, ValidationFailedError, WriteSession, verify_webhook
from apiforge.shop.payments.errors import PaymentWebhooksDisabledError
from apiforge.shop.payments.schemas import PaymentEvent
from apiforge.shop.payments.service import PaymentService
from apiforge.shop.settings import shop_settings


async def verified_payment_event(request: Request) -> tuple[str, PaymentEvent]:
    """(event id, event) of a message the provider signed, or a 4xx problem."""
    settings = shop_settings(request.app).payments
    secrets = settings.secrets()
    if not secrets:
        raise PaymentWebhooksDisabledError("Payment webhooks are not configured.")
    body = await request.body()
    event_id = verify_webhook(secrets, request.headers, body, tolerance=settings.tolerance_seconds)
    if len(event_id) > 255:
        raise ValidationFailedError("The webhook-id is longer than 255 characters.")
    try:
        event = PaymentEvent.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailedError(ValidationFailedError.FIELDS_DETAIL, errors=errors) from exc
    return event_id, event


async def payment_service(session: WriteSession, jobs: Jobs) -> PaymentService:
    return PaymentService(session, jobs)


VerifiedPaymentEvent = Annotated[tuple[str, PaymentEvent], Depends(verified_payment_event)]
Payments = Annotated[PaymentService, Depends(payment_service)]
