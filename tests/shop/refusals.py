"""What a refused credential gets on the wire (one 401 body for every kind of bad token, so a
caller learns nothing about which check failed), and the hand-made tokens PyJWT will not make
(unsigned ones, HMAC keyed with a public key)."""

import base64
import hashlib
import hmac
from typing import Any

import httpx
import orjson

# The one answer every refusal gives (request_id aside, which differs per request).
REFUSAL = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The access token is not valid.",
    "code": "auth.invalid_token",
}


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.pop("request_id") == response.headers["x-request-id"]
    assert body == REFUSAL


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(alg: str, claims: dict[str, Any]) -> str:
    """A token with no signature, its header naming `alg` (none, None, NONE)."""
    return f"{b64(orjson.dumps({'alg': alg, 'typ': 'JWT'}))}.{b64(orjson.dumps(claims))}."


def hs256_with(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """HS256 keyed with `secret`, by hand: PyJWT refuses a PEM or JWK as an HMAC key, which is
    exactly the forgery (the public key, which anyone has, as the secret) to test."""
    header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}))
    signing_input = f"{header}.{b64(orjson.dumps(claims))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
