"""Secrets never reach a log line: the redactor's rules, then end to end on the shop at DEBUG
(logins, tokens, Authorization headers, a 500 whose exception holds a URL password)."""

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from apiforge.kit import ApiKeyCodec
from apiforge.kit.redaction import MASK, Redactor
from apiforge.kit.settings import Environment, Settings
from tests.kit.auth.keys import asymmetric_auth, new_pem, rfc8037_pem

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("text", "kept", "secret"),
    [
        ("password=hunter2 at db:5432", "password=", "hunter2"),
        ("postgresql+asyncpg://app:s3cr3t@db:5432/shop", "postgresql+asyncpg://app:", "s3cr3t"),
        ("redis://:r3d1s@cache:6379/0", "redis://:", "r3d1s"),
        (f"Authorization: Bearer {JWT}", "Authorization: ", JWT),
        ("authorization: Basic dXNlcjpwYXNz", "authorization: ", "dXNlcjpwYXNz"),
        (f"sent Bearer {JWT[:20]} to them", "sent Bearer ", JWT[:20]),
        (f"decoded {JWT} badly", "decoded ", "c2lnbmF0dXJl"),
        ("{'password': 'two words', 'email': 'a@b.c'}", "'email': 'a@b.c'", "two words"),
        ('{"refresh_token": "opaque-value"}', '{"refresh_token": ', "opaque-value"),
        ("x-api-key: k-123&next=1", "x-api-key: ", "k-123"),
        ("client_secret=abc; cookie=sid=1", "client_secret=", "abc"),
    ],
)
def test_text_secrets_are_masked(text: str, kept: str, secret: str) -> None:
    masked = Redactor().text(text)
    assert secret not in masked
    assert kept in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/products/5 HTTP/1.1",
        "http://host:8080/path@x",
        "the token has expired",
        "user a@b.c logged in",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


# API keys whose 43-character secrets start or end with the characters a word boundary trips
# on (token_urlsafe draws them as often as letters).
KEY_ID = "3kq9v2m8x1zt"
SECRET = ("Zx0aB9cD8eF7gH6iJ5kL4mN3oP2qR1sT0uV9wX8yZ7" * 2)[:43]
API_KEYS = [
    f"afk_{KEY_ID}_-{SECRET[1:]}",
    f"afk_{KEY_ID}_{SECRET[:-1]}-",
    f"shop_{KEY_ID}_" + f"___{SECRET[3:-3]}___",  # a service's own prefix
]


@pytest.mark.parametrize("key", API_KEYS)
@pytest.mark.parametrize(
    "template",
    [
        "{key}",
        "X-API-Key: {key}",
        "Authorization: Bearer {key}",
        "{{'x-api-key': '{key}', 'accept': '*/*'}}",
        "used {key}, then {key}.",
        "GET /api/orders?key={key}&page=2",
    ],
)
def test_api_keys_are_masked_keeping_their_lookup_id(key: str, template: str) -> None:
    prefix, key_id, secret = key.split("_", 2)
    assert ApiKeyCodec("k" * 40, prefix=prefix).parse(key) is not None  # a key, as issued
    masked = Redactor().text(template.format(key=key))
    assert secret not in masked
    assert secret[1:-1] not in masked
    assert MASK in masked
    if "api-key" not in template.lower() and "Bearer" not in template:
        assert f"{prefix}_{key_id}_{MASK}" in masked  # which key was used stays readable


def _ec_pem() -> str:
    private = ec.derive_private_key(0x1D2C3B4A5968778695A4B3C2D1E0F, ec.SECP256R1())
    data = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return data.decode()


PEMS = {"PKCS#8 Ed25519": rfc8037_pem(), "SEC1 EC": _ec_pem()}


@pytest.mark.parametrize("kind", list(PEMS))
@pytest.mark.parametrize(
    "shape",
    [
        lambda pem: pem,
        lambda pem: f"signing key: {pem!r} loaded",  # repr: the newlines become \\n
        lambda pem: pem.replace("\n", "\r\n"),
        lambda pem: pem.replace("\n", " "),
        lambda pem: pem[: len(pem) * 2 // 3],  # cut short: no END line
        lambda pem: repr(pem)[: len(pem) * 2 // 3],
    ],
    ids=["as is", "repr", "CRLF", "one line", "cut short", "repr cut short"],
)
def test_pem_private_keys_are_masked(kind: str, shape: Callable[[str], str]) -> None:
    pem = PEMS[kind]
    body = "".join(pem.split("-----")[2].split())
    masked = Redactor().text(f"before {shape(pem)} | after")
    for start in range(0, len(body) - 16, 8):  # no run of 16 characters of the key survives
        assert body[start : start + 16] not in masked, masked
    assert masked.startswith("before ")
    assert masked.endswith("| after")


def test_the_settings_signing_keys_are_masked_anywhere() -> None:
    pems = [new_pem("EdDSA"), new_pem("EdDSA")]
    settings = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("p" * 40),
        auth=asymmetric_auth("EdDSA", *pems),
    )
    values = settings.secret_values()
    assert all(pem in values for pem in pems)
    redactor = Redactor(values)
    for pem in pems:
        assert redactor.text(f"oops: {pem}") == f"oops: {MASK}"


def test_known_secret_values_are_masked_anywhere() -> None:
    redactor = Redactor(["short", "a-long-signing-key", "a-long-signing-key-extended"])
    assert redactor.secrets == ("a-long-signing-key-extended", "a-long-signing-key")
    assert redactor.text("k=a-long-signing-key-extended!") == f"k={MASK}!"
    assert redactor.text("short stays") == "short stays"  # too short to mask safely


def test_fields_under_sensitive_keys_are_masked() -> None:
    fields = Redactor().fields(
        {
            "password": "x",
            "Authorization": "Bearer y",
            "api_key": 1,
            "headers": {"Cookie": "sid=1", "accept": "*/*"},
            "urls": ["postgresql://u:pw@h/db", 3],
            "count": 2,
            "ok": True,
            "none": None,
            "other": b"postgresql://u:pw@h/db",
        }
    )
    assert fields == {
        "password": MASK,
        "Authorization": MASK,
        "api_key": MASK,
        "headers": {"Cookie": MASK, "accept": "*/*"},
        "urls": [f"postgresql://u:{MASK}@h/db", 3],
        "count": 2,
        "ok": True,
        "none": None,
        "other": f"b'postgresql://u:{MASK}@h/db'",
    }
