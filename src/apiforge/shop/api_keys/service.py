"""API keys rules: an organization's admins and owners create keys (scopes never beyond what
their role holds, an optional expiry), list them (never the secret) and revoke them; the
identity store reads a key by its lookup id and records when keys were used. A revocation
reaches every worker's cached copy at commit."""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    ApiKeyCodec,
    Identity,
    StoredApiKey,
    TenantAccess,
    ValidationFailedError,
    after_commit,
    utcnow,
)
from apiforge.shop.api_keys.errors import ApiKeyNotFoundError, ScopeTooWideError
from apiforge.shop.api_keys.repository import AnyRow, ApiKeyRepository
from apiforge.shop.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from apiforge.shop.permissions import ORG_ROLES, SCOPE_GRANTORS
from apiforge.shop.roles import Scope


def _read(row: AnyRow) -> ApiKeyRead:
    return ApiKeyRead.model_construct(
        id=row.id,
        name=row.name,
        prefix=row.display_prefix,
        scopes=[Scope(scope) for scope in str(row.scopes).split()],
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        codec: ApiKeyCodec | None = None,
        identity: Identity | None = None,
    ) -> None:
        self.session = session
        self.codec = codec
        self.identity = identity

    async def create(self, access: TenantAccess, data: ApiKeyCreate) -> ApiKeyCreated:
        if self.codec is None:
            raise RuntimeError("creating keys needs the codec")
        for scope in data.scopes:
            if not ORG_ROLES.at_least(access.role, SCOPE_GRANTORS[scope]):
                raise ScopeTooWideError(f"Your role ({access.role}) cannot grant {scope}.")
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise ValidationFailedError(
                ValidationFailedError.FIELDS_DETAIL,
                errors=[
                    {
                        "loc": ["body", "expires_at"],
                        "msg": "must be in the future",
                        "type": "value_error",
                    }
                ],
            )
        new = self.codec.generate()
        row = await ApiKeyRepository(self.session, access.scope).add(
            key_id=new.key_id,
            name=data.name,
            display_prefix=new.display_prefix,
            secret_digest=new.secret_digest,
            scopes=" ".join(sorted(set(data.scopes))),
            created_by=access.principal.row_id,
            expires_at=data.expires_at,
        )
        return ApiKeyCreated.model_construct(**_read(row).model_dump(), key=new.plaintext)

    async def list(self, access: TenantAccess) -> list[ApiKeyRead]:
        rows = await ApiKeyRepository(self.session, access.scope).all()
        return [_read(row) for row in rows]

    async def revoke(self, access: TenantAccess, row_id: int) -> None:
        """Revoke the key (idempotent); another organization's key is a 404."""
        keys = ApiKeyRepository(self.session, access.scope)
        key_id = await keys.key_id_of(row_id)
        if key_id is None:
            raise ApiKeyNotFoundError(f"No API key {row_id}.")
        await keys.revoke(row_id, utcnow())
        identity = self.identity
        if identity is not None:

            async def forget() -> None:
                await identity.forget_api_key(key_id)

            after_commit(self.session, forget)

    async def find(self, key_id: str) -> StoredApiKey | None:
        """The stored key for authentication, by its lookup id."""
        row = await ApiKeyRepository(self.session).find(key_id)
        if row is None:
            return None
        expires: datetime | None = row.expires_at
        return StoredApiKey(
            key_id=row.key_id,
            tenant_id=row.organization_id,
            scopes=frozenset(str(row.scopes).split()),
            secret_digest=row.secret_digest,
            expires_at=None if expires is None else expires.timestamp(),
            revoked=row.revoked_at is not None,
        )

    async def record_use(self, used: Mapping[str, datetime]) -> None:
        await ApiKeyRepository(self.session).touch(used)
