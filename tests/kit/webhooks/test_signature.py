"""Standard Webhooks signatures: the spec's published vector, an independent HMAC computed here
from the spec's text, rotation (several signatures in one header), the replay window both ways,
and every way a message can fail to verify."""

import base64
import hashlib
import hmac

import pytest

from apiforge.kit.webhooks.signature import (
    WebhookHeadersMissingError,
    WebhookSignatureError,
    WebhookTimestampError,
    generate_secret,
    secret_key,
    sign,
    signature_headers,
    verify,
)

# The test vector the Standard Webhooks reference libraries (and Svix's) publish.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The spec's recipe, written out from its text (not by calling the kit)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def headers_for(signature: str, *, timestamp: int = SPEC_TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_the_spec_vector_signs_and_verifies() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    got = verify([SPEC_SECRET], headers_for(SPEC_SIGNATURE), SPEC_BODY, now=SPEC_TIMESTAMP)
    assert got == SPEC_ID


def test_signatures_match_an_independent_implementation() -> None:
    secret = generate_secret()
    body = b'{"type":"order.paid","data":{"id":7}}'
    assert sign(secret, "msg_1", 1700000000, body) == spec_signature(
        secret, "msg_1", 1700000000, body
    )


def test_generated_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(secret_key(first)) == 32


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_" + "QUJD", "plain"])
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook"):
        sign(secret, "msg", 1, b"")


def test_headers_carry_one_signature_per_secret_for_rotation() -> None:
    old, new = generate_secret(), generate_secret()
    headers = signature_headers([new, old], "msg_2", b"{}", timestamp=1700000000)
    assert headers["webhook-id"] == "msg_2"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].split(" ") == [
        spec_signature(new, "msg_2", 1700000000, b"{}"),
        spec_signature(old, "msg_2", 1700000000, b"{}"),
    ]
    # A receiver that still only knows the old secret, and one that knows only the new one.
    assert verify([old], headers, b"{}", now=1700000000) == "msg_2"
    assert verify([new], headers, b"{}", now=1700000000) == "msg_2"


def test_a_receiver_with_two_secrets_accepts_either() -> None:
    other = generate_secret()
    headers = headers_for(SPEC_SIGNATURE)
    assert verify([other, SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID


def test_unknown_versions_are_ignored_next_to_a_valid_one() -> None:
    header = f"v1a,AAAA v2,xyz {SPEC_SIGNATURE}"
    assert verify([SPEC_SECRET], headers_for(header), SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID


@pytest.mark.parametrize(
    "signature",
    [
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",  # truncated
        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  # another scheme only
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  # no version
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
)
def test_wrong_signatures_are_refused(signature: str) -> None:
    with pytest.raises(WebhookSignatureError):
        verify([SPEC_SECRET], headers_for(signature), SPEC_BODY, now=SPEC_TIMESTAMP)


def test_a_changed_body_or_id_is_refused() -> None:
    with pytest.raises(WebhookSignatureError):
        verify([SPEC_SECRET], headers_for(SPEC_SIGNATURE), SPEC_BODY + b" ", now=SPEC_TIMESTAMP)
    headers = headers_for(SPEC_SIGNATURE) | {"webhook-id": "msg_other"}
    with pytest.raises(WebhookSignatureError):
        verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookSignatureError):
        verify([generate_secret()], headers_for(SPEC_SIGNATURE), SPEC_BODY, now=SPEC_TIMESTAMP)


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_timestamps_outside_the_tolerance_are_refused_both_ways(offset: int) -> None:
    # Signed correctly for its timestamp: only the clock refuses it.
    signature = spec_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + offset, SPEC_BODY)
    headers = headers_for(signature, timestamp=SPEC_TIMESTAMP + offset)
    with pytest.raises(WebhookTimestampError):
        verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_inside_the_tolerance_are_accepted(offset: int) -> None:
    signature = spec_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + offset, SPEC_BODY)
    headers = headers_for(signature, timestamp=SPEC_TIMESTAMP + offset)
    assert verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID


def test_the_tolerance_is_configurable() -> None:
    headers = headers_for(SPEC_SIGNATURE)
    with pytest.raises(WebhookTimestampError):
        verify([SPEC_SECRET], headers, SPEC_BODY, tolerance=10, now=SPEC_TIMESTAMP + 11)


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "1.5", "١٢٣", "9" * 40])
def test_malformed_timestamps_are_refused(timestamp: str) -> None:
    headers = headers_for(SPEC_SIGNATURE) | {"webhook-timestamp": timestamp}
    with pytest.raises((WebhookTimestampError, WebhookHeadersMissingError)):
        verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    headers = headers_for(SPEC_SIGNATURE)
    del headers[missing]
    with pytest.raises(WebhookHeadersMissingError):
        verify([SPEC_SECRET], headers, SPEC_BODY, now=SPEC_TIMESTAMP)


def test_the_errors_are_400_problems_with_their_own_codes() -> None:
    assert WebhookSignatureError.status == 400
    codes = {
        WebhookSignatureError.code,
        WebhookTimestampError.code,
        WebhookHeadersMissingError.code,
    }
    assert len(codes) == 3
    assert all(code.startswith("webhooks.") for code in codes)
