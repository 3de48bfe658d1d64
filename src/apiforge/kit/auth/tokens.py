"""JWT access tokens (PyJWT, algorithm pinned; exp, iat, iss, aud and sub required; HS256 with
the secret key or EdDSA/ES256 with a `kid`) and opaque refresh tokens (random, stored only as
a SHA-256 digest). Not for: storing refresh tokens or deciding rotation (the service does
that in its transaction), nor whether a token was revoked (kit.identity)."""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from apiforge.kit.auth.principal import Principal
from apiforge.kit.auth.signing import SigningKeys
from apiforge.kit.errors import UnauthenticatedError
from apiforge.kit.settings import AuthSettings

_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Header members that would let a token name its own key (RFC 8725 section 3.10): a token is
# verified with our keys only, so a token carrying any of them is refused outright.
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
INVALID_TOKEN_DETAIL = "The access token is not valid."  # noqa: S105  # a message, not a secret


class InvalidTokenError(UnauthenticatedError):
    """401 `auth.invalid_token`, answered with `WWW-Authenticate: Bearer
    error="invalid_token"`: a credential that is malformed, forged, expired, revoked or of
    another kind. Every such case answers the same body, so a caller learns nothing about
    which check failed (the log line says)."""

    code = "auth.invalid_token"
    www_authenticate = 'Bearer error="invalid_token"'

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__(INVALID_TOKEN_DETAIL)
        # For logs and tests only; never part of the answer.
        self.reason = reason


class ExpiredTokenError(InvalidTokenError):
    """A genuine access token past its `exp` (plus the leeway): answered exactly as any
    invalid token (no oracle), told apart only in logs."""


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    """A signed access token and its lifetime in seconds (`expires_in` for the client)."""

    token: str
    expires_in: int


class AccessTokenCodec:
    """Issues and verifies the service's JWT access tokens: `issue(principal)` signs one valid
    for `auth.access_token_ttl_seconds`; `verify(token)` returns its `Principal` or raises
    `InvalidTokenError`. The algorithm is pinned to `auth.algorithm` (a token naming any other,
    `none` included, is refused). The running app's codec is `app_state(app).tokens`."""

    def __init__(self, settings: AuthSettings, key: str) -> None:
        self._settings = settings
        self.keys = SigningKeys.from_settings(settings, key)
        self._algorithms = [settings.algorithm]

    def issue(self, principal: Principal) -> IssuedAccessToken:
        now = int(time.time())
        ttl = self._settings.access_token_ttl_seconds
        claims = {
            "sub": principal.subject,
            "role": principal.role,
            "scope": " ".join(sorted(principal.scopes)),
            "gen": principal.generation,
            "iat": now,
            "exp": now + ttl,
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        signing = self.keys.signing
        if signing is None:
            token = jwt.encode(claims, self.keys.secret, algorithm=self.keys.algorithm)
        else:
            token = jwt.encode(
                claims, signing.private, algorithm=self.keys.algorithm, headers={"kid": signing.kid}
            )
        return IssuedAccessToken(token, ttl)

    def verify(self, token: str) -> Principal:
        claims = self._decode(token)
        role, subject, generation = claims.get("role"), claims.get("sub"), claims.get("gen", 0)
        if (
            claims.get("typ") != "access"
            or not isinstance(role, str)
            or not isinstance(subject, str)
            or not subject
            or type(generation) is not int
        ):
            raise InvalidTokenError("claims")
        scope = claims.get("scope", "")
        return Principal(
            subject=subject,
            role=role,
            scopes=frozenset(str(scope).split()),
            generation=generation,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._verifying_key(header)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredTokenError("expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        return claims

    def _verifying_key(self, header: dict[str, Any]) -> Any:
        if FORBIDDEN_HEADERS & header.keys():
            raise InvalidTokenError("key-naming header")
        if header.get("alg") != self.keys.algorithm:
            raise InvalidTokenError("algorithm")
        if self.keys.signing is None:
            return self.keys.secret
        found = self.keys.by_kid.get(str(header.get("kid", "")))
        if found is None:
            raise InvalidTokenError("unknown kid")
        return found.public


def new_refresh_token() -> str:
    """A new opaque refresh token (32 random bytes, URL-safe): give it to the client, store
    only `refresh_token_digest(token)`."""
    return secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> str:
    """What is stored: a leaked table does not yield usable tokens."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
