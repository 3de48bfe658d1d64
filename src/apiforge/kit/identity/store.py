"""What the kit asks a service about identities it cannot know from a credential alone: a
user's token generation and standing, an API key's record, a member's role in a tenant, the
local user behind an external identity. Asked on a cache miss only, never per request. Not
for: the cache (kit.identity.lookups) or HTTP."""

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the store is the service's, built on the running database
    from apiforge.kit.db.database import Database


@dataclass(frozen=True, slots=True)
class SubjectState:
    """A user's standing for token checks: tokens of an older `generation` are refused
    (logout everywhere, a password change), and every token of an inactive user is."""

    generation: int
    active: bool


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    """An API key as stored (never its secret): the tenant it acts for, its scopes, the
    keyed digest of its secret, its expiry (epoch seconds) and whether it was revoked."""

    key_id: str
    tenant_id: int
    scopes: frozenset[str]
    secret_digest: str
    expires_at: float | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """A verified token of an external issuer, as a service links it to a local user: by
    `issuer` and `subject` together, never by `email` alone."""

    issuer: str
    subject: str
    email: str | None


class IdentityStore:
    """The service's answers, each read from its own tables on a cache miss. Override what
    the service supports; the defaults know nothing: every user in good standing, no API
    keys, no tenant members, external subjects kept as they are. Built by the service's
    factory (`create_app(identity_store=...)`) with the running `Database`."""

    async def subject_state(self, subject: str) -> SubjectState | None:
        """The user's standing; None refuses every token of `subject` (a deleted user)."""
        return SubjectState(generation=0, active=True)

    async def api_key(self, key_id: str) -> StoredApiKey | None:
        return None

    async def record_api_key_use(self, used: Mapping[str, datetime]) -> None:
        """Note when each key was last used (called off the request path, batched, at
        most once a minute per key)."""

    async def tenant_role(self, tenant_id: int, subject: str) -> str | None:
        """The subject's role in the tenant, None when not a member."""
        return None

    async def link_external(self, identity: ExternalIdentity) -> str:
        """The local subject of an external identity, created on first sight."""
        return identity.subject


# typing's Callable: only its alias takes a docstring of its own.
IdentityStoreFactory = typing.Callable[["Database"], IdentityStore]
IdentityStoreFactory.__doc__ = """`create_app(identity_store=...)`: builds the service's
`IdentityStore` on the running `Database` when the app starts (a class taking the database
will do: `identity_store=ShopIdentityStore`)."""
