"""Webhooks, out and in, on the Standard Webhooks scheme. Out: a service maps the endpoint and
delivery tables (models), the outbox relay hands events to `WebhookDispatcher.accept` (one
pending delivery per subscribed endpoint, in the caller's transaction), and a job runs
`WebhookSender.deliver(id)` (signed, SSRF-checked against the address resolved at send time,
retried on the schedule in `schedule.py`, the endpoint paused when it keeps failing), endpoint
secrets sealed at rest (`SecretSealer`). In:
`verify` checks a received message's signature and timestamp on the raw body. Not for: the
transport (kit.http_client) or queueing (kit.jobs)."""

from apiforge.kit.webhooks.dispatcher import WebhookDispatcher, WebhookEvent
from apiforge.kit.webhooks.models import (
    DeliveryStatus,
    EndpointStatus,
    WebhookDeliveryMixin,
    WebhookEndpointMixin,
)
from apiforge.kit.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS, next_attempt
from apiforge.kit.webhooks.sealing import (
    SealedSecretError,
    SecretSealer,
    reseal_secrets,
    webhook_sealer,
)
from apiforge.kit.webhooks.sender import Outcome, WebhookSender, webhook_upstream
from apiforge.kit.webhooks.signature import (
    WebhookHeadersMissingError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
    generate_secret,
    sign,
    signature_headers,
    verify,
)
from apiforge.kit.webhooks.targets import WebhookTargetError, check_url, resolve_target

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_DELAYS",
    "DeliveryStatus",
    "EndpointStatus",
    "Outcome",
    "SealedSecretError",
    "SecretSealer",
    "WebhookDeliveryMixin",
    "WebhookDispatcher",
    "WebhookEndpointMixin",
    "WebhookEvent",
    "WebhookHeadersMissingError",
    "WebhookSender",
    "WebhookSignatureError",
    "WebhookTargetError",
    "WebhookTimestampError",
    "WebhookVerificationError",
    "check_url",
    "generate_secret",
    "next_attempt",
    "reseal_secrets",
    "resolve_target",
    "sign",
    "signature_headers",
    "verify",
    "webhook_sealer",
    "webhook_upstream",
]
