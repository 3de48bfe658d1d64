"""Webhooks: Standard Webhooks signatures for messages sent and received. Not for: the transport
(`apiforge.kit.http_client`)."""

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

__all__ = [
    "WebhookHeadersMissingError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookVerificationError",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify",
]
