"""API keys: `<prefix>_<key id>_<secret>` (`afk_3kq9v2m8x1zt_...`), a form secret scanners and
log redaction can spot, shown to its creator once; only a keyed digest of the secret is stored.
Not for: storing keys or deciding who may create them (the service), nor the request-time
lookup and its cache (kit.identity.api_keys)."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

# 12 characters of [a-z0-9]: ~62 bits, unique enough for a lookup id (the table's unique
# constraint settles the rest), and free of `_` so the key splits unambiguously.
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_LENGTH = 12
_SECRET_BYTES = 32
_DERIVATION_LABEL = b"apiforge api-key digest v1"


def api_key_pattern(prefix: str) -> re.Pattern[str]:
    """What a key of this prefix looks like in text (group 1 the lookup id, group 2 the
    secret). The end is "no more secret characters", not `\\b`: a secret may end in `-`,
    after which a word boundary never comes."""
    return re.compile(
        rf"\b{re.escape(prefix)}_([a-z0-9]{{{_ID_LENGTH}}})_([A-Za-z0-9_-]{{43}})(?![A-Za-z0-9_-])"
    )


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key: give `plaintext` to the creator once; store `key_id`,
    `display_prefix` and `secret_digest`."""

    key_id: str
    display_prefix: str
    secret_digest: str
    plaintext: str


@dataclass(frozen=True, slots=True)
class PresentedApiKey:
    """A key as a client sent it, split into its lookup id and its secret."""

    key_id: str
    secret: str


class ApiKeyCodec:
    """Makes, parses and checks API keys.

    The secret is stored as HMAC-SHA256 under a key derived from the service's secret key,
    not as an argon2 hash: the secret is 256 random bits (no dictionary to slow down, so a
    slow hash buys nothing) and is checked on every keyed request, where argon2 would cost
    tens of milliseconds of CPU each time. The server-side key means a leaked table alone
    cannot even confirm a guess. Comparison is constant-time. Rotating the secret key
    invalidates every API key (they must be reissued)."""

    def __init__(self, secret_key: str, *, prefix: str = "afk") -> None:
        self.prefix = prefix
        self._pattern = api_key_pattern(prefix)
        self._digest_key = hmac.new(secret_key.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()

    def generate(self) -> NewApiKey:
        key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        display = f"{self.prefix}_{key_id}"
        return NewApiKey(key_id, display, self.digest(secret), f"{display}_{secret}")

    def looks_like_key(self, value: str) -> bool:
        """Whether a bearer credential is meant as an API key (`afk_...`), not a JWT."""
        return value.startswith(f"{self.prefix}_")

    def parse(self, value: str) -> PresentedApiKey | None:
        match = self._pattern.fullmatch(value)
        return PresentedApiKey(match[1], match[2]) if match else None

    def digest(self, secret: str) -> str:
        return hmac.new(self._digest_key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(secret), stored_digest)
