"""`Identity`: turns the credential a request carries into a `Principal` (our access token, an
API key, or a token of a trusted external issuer) and answers the membership question tenancy
asks, from cached lookups: no database query on the hot path. Also where a service says that
something changed (a password, a revoked key, a membership), so every worker stops honouring
the old state within seconds. Not for: HTTP (kit.identity.dependencies)."""

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from apiforge.kit.auth.api_keys import ApiKeyCodec
from apiforge.kit.auth.principal import Principal
from apiforge.kit.auth.tokens import AccessTokenCodec, InvalidTokenError
from apiforge.kit.cache import CacheBackend, MemoryCache
from apiforge.kit.identity.api_keys import ApiKeyAuthenticator, api_key_tag
from apiforge.kit.identity.issuers import ExternalIssuers, IssuerKeys, role_from
from apiforge.kit.identity.lookups import Lookups
from apiforge.kit.identity.store import ExternalIdentity, IdentityStore, SubjectState
from apiforge.kit.identity.usage import ApiKeyUsage
from apiforge.kit.settings import Settings

if TYPE_CHECKING:
    import httpx
    from redis.asyncio import Redis

logger = logging.getLogger("apiforge.identity")


def subject_tag(subject: str) -> str:
    return f"identity:subject:{subject}"


def membership_tag(tenant_id: int, subject: str) -> str:
    return f"identity:member:{tenant_id}:{subject}"


class Identity:
    """The running app's authenticator (`app_state(app).identity`).

    Lookups live in the app cache when it is on (shared through Redis when configured, L1 in
    each worker kept coherent by pub/sub), else in a private in-process cache whose TTL is the
    L1 TTL, so a change still reaches every worker within that bound."""

    def __init__(
        self,
        settings: Settings,
        *,
        tokens: AccessTokenCodec,
        store: IdentityStore,
        cache: CacheBackend | None,
        http_client: "httpx.AsyncClient",
        redis: "Redis | None" = None,
    ) -> None:
        shared = cache is not None and redis is not None
        ttl = settings.auth.lookup_ttl_seconds if shared else settings.cache.l1_ttl_seconds
        self.lookups = Lookups(cache or MemoryCache(name="identity"), ttl=ttl)
        self.tokens = tokens
        self.store = store
        self.api_key_codec = ApiKeyCodec(settings.signing_key, prefix=settings.auth.api_key_prefix)
        self.usage = ApiKeyUsage(
            store.record_api_key_use, redis=redis, key_prefix=settings.cache.key_prefix
        )
        self.api_keys = ApiKeyAuthenticator(self.api_key_codec, self.lookups, store, self.usage)
        self.external = ExternalIssuers(settings.auth, http_client)

    async def authenticate(self, *, bearer: str | None, api_key: str | None) -> Principal:
        """The principal behind the request's credential; `InvalidTokenError` for any bad
        one (and for two credentials at once: which one would speak?)."""
        if api_key is not None:
            if bearer is not None:
                raise InvalidTokenError("two credentials")
            return await self.api_keys.authenticate(api_key)
        if bearer is None:
            raise InvalidTokenError("no credential")
        if self.api_key_codec.looks_like_key(bearer):
            return await self.api_keys.authenticate(bearer)
        issuer = self.external.match(bearer)
        if issuer is not None:
            return await self._external(issuer, bearer)
        principal = self.tokens.verify(bearer)
        state = await self.subject_state(principal.subject)
        if state is None or not state.active or state.generation != principal.generation:
            raise InvalidTokenError("revoked")
        return principal

    async def subject_state(self, subject: str) -> SubjectState | None:
        async def load() -> dict[str, Any] | None:
            state = await self.store.subject_state(subject)
            return None if state is None else {"g": state.generation, "a": state.active}

        found = await self.lookups.get(f"identity:subject:{subject}", subject_tag(subject), load)
        return None if found is None else SubjectState(found["g"], found["a"])

    async def tenant_role(self, tenant_id: int, subject: str) -> str | None:
        """The subject's role in the tenant (None: not a member), cached."""

        async def load() -> str | None:
            return await self.store.tenant_role(tenant_id, subject)

        key = f"identity:member:{tenant_id}:{subject}"
        role: str | None = await self.lookups.get(key, membership_tag(tenant_id, subject), load)
        return role

    async def _external(self, issuer: IssuerKeys, token: str) -> Principal:
        claims = await self.external.verify(issuer, token)
        settings = issuer.issuer
        email = claims.get(settings.email_claim)
        if settings.require_verified_email and claims.get("email_verified") is not True:
            email = None
        identity = ExternalIdentity(
            issuer=settings.issuer,
            subject=claims["sub"],
            email=email if isinstance(email, str) else None,
        )

        async def load() -> str:
            return await self.store.link_external(identity)

        # The issuer URL is hashed into the key: bounded length, no separators from a URL.
        digest = hashlib.sha256(f"{identity.issuer}\0{identity.subject}".encode()).hexdigest()
        subject: str = await self.lookups.get(
            f"identity:external:{digest[:32]}", f"identity:external:{digest[:32]}", load
        )
        state = await self.subject_state(subject)
        if state is None or not state.active:
            raise InvalidTokenError("external user disabled")
        return Principal(
            subject=subject,
            role=role_from(settings, claims),
            issuer=settings.issuer,
            generation=state.generation,
        )

    # -- a service says something changed (call after the change committed)

    async def forget_subject(self, subject: str) -> None:
        """The user's generation or standing changed: every worker re-reads it."""
        await self.lookups.forget(subject_tag(subject))

    async def forget_api_key(self, key_id: str) -> None:
        await self.lookups.forget(api_key_tag(key_id))

    async def forget_membership(self, tenant_id: int, subject: str) -> None:
        await self.lookups.forget(membership_tag(tenant_id, subject))

    async def forget_all(self) -> None:
        """Every cached identity lookup, in every worker (after restoring a backup; between
        tests, whose rolled-back users may reuse ids)."""
        await self.lookups.forget_all()
