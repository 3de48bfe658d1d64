"""Authenticates an API key per request from the cached record of its lookup id: a keyed
request costs no database query once its key is cached, and a revocation reaches every worker
through the cache's invalidation. Not for: making keys (kit.auth.api_keys) or storing them."""

import time
from typing import Any

from apiforge.kit.auth.api_keys import ApiKeyCodec
from apiforge.kit.auth.principal import Principal
from apiforge.kit.auth.tokens import InvalidTokenError
from apiforge.kit.identity.lookups import Lookups
from apiforge.kit.identity.store import IdentityStore, StoredApiKey
from apiforge.kit.identity.usage import ApiKeyUsage


def api_key_tag(key_id: str) -> str:
    return f"identity:api-key:{key_id}"


def _encode(key: StoredApiKey | None) -> dict[str, Any] | None:
    if key is None:
        return None
    return {
        "tenant_id": key.tenant_id,
        "scopes": sorted(key.scopes),
        "digest": key.secret_digest,
        "expires_at": key.expires_at,
        "revoked": key.revoked,
    }


class ApiKeyAuthenticator:
    """`authenticate(raw)`: the key's `Principal` (acting for its tenant with its scopes), or
    `InvalidTokenError` for a malformed, unknown, wrong, revoked or expired key, all alike."""

    def __init__(
        self, codec: ApiKeyCodec, lookups: Lookups, store: IdentityStore, usage: ApiKeyUsage
    ) -> None:
        self.codec = codec
        self._lookups = lookups
        self._store = store
        self._usage = usage

    async def authenticate(self, raw: str) -> Principal:
        presented = self.codec.parse(raw)
        if presented is None:
            raise InvalidTokenError("api key format")
        key_id = presented.key_id

        async def load() -> dict[str, Any] | None:
            return _encode(await self._store.api_key(key_id))

        record = await self._lookups.get(f"identity:api-key:{key_id}", api_key_tag(key_id), load)
        if record is None or not self.codec.matches(presented.secret, record["digest"]):
            raise InvalidTokenError("api key unknown")
        expires_at = record["expires_at"]
        if record["revoked"] or (expires_at is not None and expires_at <= time.time()):
            raise InvalidTokenError("api key revoked or expired")
        self._usage.mark(key_id)
        return Principal(
            subject=f"key:{key_id}",
            role="",
            scopes=frozenset(record["scopes"]),
            tenant_id=record["tenant_id"],
            api_key_id=key_id,
        )
