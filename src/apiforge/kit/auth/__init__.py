"""Authentication primitives: argon2 password hashing, JWT access tokens, opaque refresh
tokens, and the `Principal` a verified token resolves to. Not for: users or their storage
(that is the service's)."""

from apiforge.kit.auth.passwords import PasswordHasher
from apiforge.kit.auth.principal import Principal
from apiforge.kit.auth.tokens import (
    AccessTokenCodec,
    IssuedAccessToken,
    new_refresh_token,
    refresh_token_digest,
)

__all__ = [
    "AccessTokenCodec",
    "IssuedAccessToken",
    "PasswordHasher",
    "Principal",
    "new_refresh_token",
    "refresh_token_digest",
]
