"""The simulated payment provider's side: events signed as the Standard Webhooks text says,
written here (not with the kit's code), with the secret the test settings give the shop."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

PROVIDER_SECRET = "whsec_" + base64.b64encode(b"payment-provider-test-secret-32b").decode()
PATH = "/api/webhooks/payments"


def signed(
    body: bytes,
    message_id: str,
    *,
    timestamp: int | None = None,
    secret: str = PROVIDER_SECRET,
) -> dict[str, str]:
    sent_at = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{sent_at}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        "Content-Type": "application/json",
    }


def event_body(kind: str, order_id: int, amount: str | None = None, **extra: Any) -> bytes:
    data: dict[str, Any] = {"order_id": order_id, **extra}
    if amount is not None:
        data["amount"] = amount
    return json.dumps({"type": f"payment.{kind}", "data": data}).encode()
