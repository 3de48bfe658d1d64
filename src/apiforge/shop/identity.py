"""The shop's answers to the kit's identity questions, each read from the shop's own tables on
a cache miss (never per request): a user's standing (token generation, active), an API key by
its lookup id, a member's role in an organization, the local user behind an external identity.
Composes the domains' services; no SQL here."""

from collections.abc import Mapping
from datetime import datetime

from apiforge.kit import (
    Database,
    ExternalIdentity,
    IdentityStore,
    StoredApiKey,
    SubjectState,
)
from apiforge.shop.accounts.service import UserDirectory
from apiforge.shop.api_keys.service import ApiKeyService
from apiforge.shop.organizations.service import OrganizationService


def _row_id(subject: str) -> int | None:
    return int(subject) if subject.isdecimal() and 0 < len(subject) < 19 else None


class ShopIdentityStore(IdentityStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def subject_state(self, subject: str) -> SubjectState | None:
        user_id = _row_id(subject)
        if user_id is None:
            return None
        async with self.database.read_session() as session:
            return await UserDirectory(session).standing(user_id)

    async def api_key(self, key_id: str) -> StoredApiKey | None:
        async with self.database.read_session() as session:
            return await ApiKeyService(session).find(key_id)

    async def record_api_key_use(self, used: Mapping[str, datetime]) -> None:
        async with self.database.transaction() as session:
            await ApiKeyService(session).record_use(used)

    async def tenant_role(self, tenant_id: int, subject: str) -> str | None:
        user_id = _row_id(subject)
        if user_id is None:
            return None
        async with self.database.read_session() as session:
            return await OrganizationService(session).role_of(tenant_id, user_id)

    async def link_external(self, identity: ExternalIdentity) -> str:
        async with self.database.transaction() as session:
            return str(await UserDirectory(session).link_external(identity))
