"""Payment webhook errors, each with a stable code (signature and timestamp failures are the
kit's `webhooks.*` 400s)."""

from apiforge.kit import ConflictError, NotFoundError


class PaymentEventReplayedError(ConflictError):
    """This event id was already processed: a replay changes nothing."""

    code = "payments.event_already_processed"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"Payment event {event_id} was already processed; nothing was changed.")


class PaymentWebhooksDisabledError(NotFoundError):
    """No provider secret is configured: the route is off, and answers as if absent (nothing
    could be verified, and a 5xx would page someone for a feature nobody turned on)."""

    code = "payments.webhooks_not_configured"
