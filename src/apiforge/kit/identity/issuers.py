"""Verifies access tokens of trusted external identity providers (resource-server mode)
against their JWKS: fetched through the kit's HTTP client with timeouts, cached, fetched again
on an unknown `kid` at most once per `auth.jwks_min_refresh_seconds`. Only the issuer's
configured asymmetric algorithms are accepted, never `none` or HMAC. Not for: our own tokens
(kit.auth.tokens) or linking identities to local users (the service's store)."""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
import jwt

from apiforge.kit.auth.tokens import FORBIDDEN_HEADERS, ExpiredTokenError, InvalidTokenError
from apiforge.kit.errors import UnauthenticatedError
from apiforge.kit.settings import AuthSettings, ExternalIssuerSettings

logger = logging.getLogger("apiforge.identity")
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]
# OpenID Connect Core 1.0 section 2: `sub` "MUST NOT exceed 255 ASCII characters", so a
# service can store it in a bounded column; longer (or with control characters) is refused,
# never truncated (two subjects would become one user).
MAX_SUBJECT = 255


class IssuerUnavailableError(UnauthenticatedError):
    """401 `auth.issuer_unavailable`: the token names a trusted issuer whose keys could not
    be fetched (down, slow, or an answer that is not a JWKS). Retry later."""

    code = "auth.issuer_unavailable"
    www_authenticate = 'Bearer error="invalid_token"'


class IssuerKeys:
    """One issuer's keys by `kid`, refreshed at most once per `min_refresh` seconds (an
    unknown `kid` from a flood of forged tokens costs one fetch per interval, not one each);
    concurrent refreshes share one fetch."""

    def __init__(
        self, issuer: ExternalIssuerSettings, client: httpx.AsyncClient, settings: AuthSettings
    ) -> None:
        self.issuer = issuer
        self._client = client
        self._min_refresh = settings.jwks_min_refresh_seconds
        self._timeout = settings.jwks_timeout_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        # Whether the last fetch failed: until the next one, a kid we do not know may well be
        # genuine, so the answer is "issuer unavailable", not "invalid token" (which would
        # send a client with a good token to sign in again).
        self._failed = False
        # Fetches started so far: a request that queued behind a fetch takes its outcome
        # instead of fetching again (with no interval, N requests to a hanging issuer would
        # otherwise wait N timeouts in a row).
        self._fetches = 0
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        found = self._keys.get(kid)
        if found is not None:
            return found
        fetches = self._fetches
        async with self._lock:
            found = self._keys.get(kid)
            if found is None and fetches == self._fetches and self._may_refresh():
                await self._refresh()
                found = self._keys.get(kid)
        if found is not None:
            return found
        if self._failed:
            raise IssuerUnavailableError(
                "The token's issuer could not be reached to verify it; try again later."
            )
        raise InvalidTokenError("unknown external kid")

    def _may_refresh(self) -> bool:
        fetched = self._fetched_at
        return fetched is None or time.monotonic() - fetched >= self._min_refresh

    async def _refresh(self) -> None:
        """Fetch the JWKS; on failure keep the keys we have (retried after the interval)."""
        url = self.issuer.keys_url
        self._fetches += 1
        try:
            # httpx's timeout bounds each phase (a read that gets a byte in time is fine):
            # the deadline bounds the whole fetch, so a trickling issuer cannot hold it.
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(url, timeout=self._timeout)
            response.raise_for_status()
            keys = _parse_jwks(response.json(), self.issuer.algorithms)
        except (httpx.HTTPError, ValueError, TimeoutError) as exc:
            logger.warning("JWKS of %s unavailable: %s: %s", url, type(exc).__name__, exc)
            self._failed = True
            return
        finally:
            self._fetched_at = time.monotonic()
        self._keys, self._failed = keys, False


def _parse_jwks(document: Any, algorithms: Sequence[str]) -> dict[str, jwt.PyJWK]:
    """The usable keys of a JWK Set; `ValueError` for an answer that is not one (any JSON
    may come back: an error page's, a proxy's)."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK Set: no list of keys")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid, alg = entry.get("kid"), entry.get("alg")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        if alg is not None and alg not in algorithms:
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=alg or _guess(entry, algorithms))
        except jwt.PyJWTError:
            continue  # a key type we cannot use is skipped, not fatal for the others
    return keys


def _guess(entry: dict[str, Any], algorithms: Sequence[str]) -> str:
    by_type = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}
    guessed = by_type.get(str(entry.get("kty")), "")
    if guessed not in algorithms:
        raise jwt.InvalidKeyError("no allowed algorithm for this key")
    return guessed


class ExternalIssuers:
    """The configured issuers by `iss`: `match(token)` names the issuer a token claims (or
    None: not an external token), `verify(issuer, token)` checks it and returns its claims."""

    def __init__(self, settings: AuthSettings, client: httpx.AsyncClient) -> None:
        self._leeway = settings.leeway_seconds
        self._by_iss = {
            issuer.issuer: IssuerKeys(issuer, client, settings)
            for issuer in settings.external_issuers
        }

    def __bool__(self) -> bool:
        return bool(self._by_iss)

    def match(self, token: str) -> IssuerKeys | None:
        if not self._by_iss:
            return None
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        iss = claims.get("iss")
        return self._by_iss.get(iss) if isinstance(iss, str) else None

    async def verify(self, keys: IssuerKeys, token: str) -> dict[str, Any]:
        issuer = keys.issuer
        try:
            header = jwt.get_unverified_header(token)
            if FORBIDDEN_HEADERS & header.keys() or header.get("alg") not in issuer.algorithms:
                raise InvalidTokenError("external algorithm or header")
            key = await keys.key_for(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=issuer.algorithms,
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredTokenError("expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        sub = claims.get("sub")
        if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUBJECT or not sub.isprintable():
            raise InvalidTokenError("external sub")
        return claims


def role_from(issuer: ExternalIssuerSettings, claims: dict[str, Any]) -> str:
    """The first of the issuer's `roles` named by its roles claim (a list or a space-separated
    string), else its `default_role`."""
    raw = claims.get(issuer.roles_claim)
    items = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    # Only strings: an issuer's claim may hold objects (unhashable), and a signed token must
    # not turn into a 500.
    named = {item for item in items if isinstance(item, str)}
    return next((role for role in issuer.roles if role in named), issuer.default_role)
