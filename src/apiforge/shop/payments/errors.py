"""Payment webhook errors, each with a stable code (signature and timestamp failures are the
kit's `webhooks.*` 400s)."""

from apiforge.kit import ConflictError, ServiceUnavailableError


class PaymentEventReplayedError(ConflictError):
    """This event id was already processed: a replay changes nothing."""

    code = "payments.event_already_processed"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"Payment event {event_id} was already processed; nothing was changed.")


class PaymentWebhooksDisabledError(ServiceUnavailableError):
    """No provider secret is configured, so no payment event can be verified."""

    code = "payments.webhooks_not_configured"
