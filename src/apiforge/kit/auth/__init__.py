"""Authentication primitives: argon2 password hashing, JWT access tokens (HS256 or EdDSA/ES256
with published keys), opaque refresh tokens, API keys, and the `Principal` a verified
credential resolves to. Not for: users or their storage (that is the service's), nor
request-time lookups (kit.identity)."""

from apiforge.kit.auth.api_keys import ApiKeyCodec, NewApiKey, PresentedApiKey
from apiforge.kit.auth.passwords import PasswordHasher
from apiforge.kit.auth.principal import Principal
from apiforge.kit.auth.signing import SigningKeyError, SigningKeys
from apiforge.kit.auth.tokens import (
    AccessTokenCodec,
    ExpiredTokenError,
    InvalidTokenError,
    IssuedAccessToken,
    new_refresh_token,
    refresh_token_digest,
)

__all__ = [
    "AccessTokenCodec",
    "ApiKeyCodec",
    "ExpiredTokenError",
    "InvalidTokenError",
    "IssuedAccessToken",
    "NewApiKey",
    "PasswordHasher",
    "PresentedApiKey",
    "Principal",
    "SigningKeyError",
    "SigningKeys",
    "new_refresh_token",
    "refresh_token_digest",
]
