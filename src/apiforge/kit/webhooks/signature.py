"""Standard Webhooks signatures (https://www.standardwebhooks.com, as Svix uses them): sign an
outgoing message and verify an incoming one. Not for: delivery, retries or secret storage.

    webhook-id: msg_...          webhook-timestamp: 1614265330 (Unix seconds)
    webhook-signature: v1,<base64 HMAC-SHA256(key, "id.timestamp.body")> [v1,<...> ...]

Secrets are `whsec_<base64 key>`; several space-separated signatures in one header let a sender
rotate secrets (any one matching is enough). The raw body is verified before anything parses it.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

from apiforge.kit.errors import AppError

SECRET_PREFIX = "whsec_"  # noqa: S105  # the scheme's prefix, not a secret
SIGNATURE_VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
# The spec's recommended replay window, applied both ways (a clock ahead is as suspect as behind).
DEFAULT_TOLERANCE_SECONDS = 5 * 60
# The spec allows keys of 24 to 64 bytes; we generate 32 (the HMAC-SHA256 block is 64).
SECRET_BYTES = 32
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


class WebhookVerificationError(AppError):
    """400: the webhook's headers or signature do not prove it came from the sender."""

    status = 400
    code = "webhooks.verification_failed"
    title = "Bad Request"


class WebhookHeadersMissingError(WebhookVerificationError):
    """One of `webhook-id`, `webhook-timestamp`, `webhook-signature` is missing or empty."""

    code = "webhooks.headers_missing"


class WebhookTimestampError(WebhookVerificationError):
    """The timestamp is not a number or lies outside the tolerance (a replay, or a bad clock)."""

    code = "webhooks.timestamp_out_of_tolerance"


class WebhookSignatureError(WebhookVerificationError):
    """No `v1` signature in the header matches the body under any of the secrets."""

    code = "webhooks.signature_invalid"


def generate_secret() -> str:
    """A new endpoint secret, `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_...` secret (a bare base64 key is accepted too)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise ValueError(f"a webhook key has {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` as message `message_id` sent at `timestamp`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_headers(
    secrets_: Iterable[str], message_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of an outgoing message, signed with each of `secrets_` (the current
    one and, during a rotation, the previous one)."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(sign(s, message_id, sent_at, body) for s in secrets_)
    if not signatures:
        raise ValueError("at least one secret signs a message")
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(sent_at), SIGNATURE_HEADER: signatures}


def verify(
    secrets_: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check `body` against the headers (looked up lower-case: pass a case-insensitive mapping
    such as Starlette's or httpx's Headers) and return the message id. Raises a
    `WebhookVerificationError` subclass; every candidate signature is compared in constant
    time with every secret."""
    message_id = headers.get(ID_HEADER)
    raw_timestamp = headers.get(TIMESTAMP_HEADER)
    header = headers.get(SIGNATURE_HEADER)
    if not message_id or not raw_timestamp or not header:
        raise WebhookHeadersMissingError(
            f"A signed webhook carries {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}."
        )
    timestamp = _timestamp(raw_timestamp, tolerance, time.time() if now is None else now)
    expected = [sign(s, message_id, timestamp, body).encode() for s in secrets_]
    matched = False
    for candidate in header.split(" "):
        version, _, _ = candidate.partition(",")
        if version != SIGNATURE_VERSION:
            continue  # other schemes (v1a, asymmetric) may sit alongside; not ours to check
        for wanted in expected:
            # No early exit: the time taken does not tell which candidate or secret matched.
            matched |= hmac.compare_digest(candidate.encode(), wanted)
    if not matched:
        raise WebhookSignatureError("No signature in the header matches the body.")
    return message_id


def _timestamp(raw: str, tolerance: int, now: float) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise WebhookTimestampError(f"{TIMESTAMP_HEADER} is not a Unix time in seconds.")
    timestamp = int(raw)
    if abs(now - timestamp) > tolerance:
        raise WebhookTimestampError(
            f"{TIMESTAMP_HEADER} is more than {tolerance} s away from the receiver's clock."
        )
    return timestamp
