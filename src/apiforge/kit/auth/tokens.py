"""JWT access tokens (PyJWT, algorithm pinned; exp, iat, iss, aud and sub required) and opaque
refresh tokens (random, stored only as a SHA-256 digest). Not for: storing refresh tokens or
deciding rotation (the service does that in its transaction)."""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from apiforge.kit.auth.principal import Principal
from apiforge.kit.errors import UnauthenticatedError
from apiforge.kit.settings import AuthSettings

_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class InvalidTokenError(UnauthenticatedError):
    """401 `auth.invalid_token`: a token that is malformed, forged or of another kind."""

    code = "auth.invalid_token"


class ExpiredTokenError(UnauthenticatedError):
    """401 `auth.token_expired`: a genuine access token past its `exp`."""

    code = "auth.token_expired"


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    """A signed access token and its lifetime in seconds (`expires_in` for the client)."""

    token: str
    expires_in: int


class AccessTokenCodec:
    """Issues and verifies JWT access tokens (HS256/384/512 with the service's secret key):
    `issue(principal)` signs one valid for `auth.access_token_ttl_seconds`; `verify(token)`
    returns its `Principal` or raises `InvalidTokenError` / `ExpiredTokenError`. The
    running app's codec is `app_state(app).tokens`."""

    def __init__(self, settings: AuthSettings, key: str) -> None:
        self._settings = settings
        self._key = key
        self._algorithms = [settings.algorithm]  # pinned: a token naming another alg is refused

    def issue(self, principal: Principal) -> IssuedAccessToken:
        now = int(time.time())
        ttl = self._settings.access_token_ttl_seconds
        claims = {
            "sub": principal.subject,
            "role": principal.role,
            "scope": " ".join(sorted(principal.scopes)),
            "iat": now,
            "exp": now + ttl,
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        return IssuedAccessToken(
            jwt.encode(claims, self._key, algorithm=self._settings.algorithm), ttl
        )

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredTokenError("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("The access token is not valid.") from exc
        role, subject = claims.get("role"), claims.get("sub")
        if (
            claims.get("typ") != "access"
            or not isinstance(role, str)
            or not isinstance(subject, str)
        ):
            raise InvalidTokenError("The access token is not valid.")
        scope = claims.get("scope", "")
        return Principal(subject=subject, role=role, scopes=frozenset(str(scope).split()))


def new_refresh_token() -> str:
    """A new opaque refresh token (32 random bytes, URL-safe): give it to the client, store
    only `refresh_token_digest(token)`."""
    return secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> str:
    """What is stored: a leaked table does not yield usable tokens."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
