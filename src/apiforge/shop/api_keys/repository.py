"""All API keys SQL. Keys are tenant-owned: managing them is scoped to their organization;
two statements cross tenants on purpose (authenticating a key before its tenant is known, and
the batched last-used stamps)."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import TenantScope, cross_tenant, scoped, table_of
from apiforge.shop.api_keys.models import ApiKey

api_keys = table_of(ApiKey)
AnyRow = Row[*tuple[Any, ...]]

_COLUMNS = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.display_prefix,
    api_keys.c.scopes,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.expires_at,
    api_keys.c.revoked_at,
)
_ADD = scoped(insert(api_keys).returning(*_COLUMNS), api_keys)
_LIST = scoped(select(*_COLUMNS).order_by(api_keys.c.id), api_keys)
# A key revoked before keeps its first revocation time.
_REVOKE = scoped(
    update(api_keys)
    .where(api_keys.c.id == bindparam("row_id"), api_keys.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("at")),
    api_keys,
)
_GET = scoped(select(api_keys.c.key_id).where(api_keys.c.id == bindparam("row_id")), api_keys)
_FIND = cross_tenant(
    select(
        api_keys.c.key_id,
        api_keys.c.organization_id,
        api_keys.c.scopes,
        api_keys.c.secret_digest,
        api_keys.c.expires_at,
        api_keys.c.revoked_at,
    ).where(api_keys.c.key_id == bindparam("key_id")),
    reason="authenticating a key comes before knowing its organization",
)
_TOUCH = cross_tenant(
    update(api_keys)
    .where(api_keys.c.key_id == bindparam("k_id"))
    .values(last_used_at=bindparam("used_at")),
    reason="last-used stamps of keys of any organization, batched off the request path",
)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession, scope: TenantScope | None = None) -> None:
        self.session = session
        self.params = {} if scope is None else scope.params

    async def add(self, **values: Any) -> AnyRow:
        return (await self.session.execute(_ADD, {**self.params, **values})).one()

    async def all(self) -> Sequence[AnyRow]:
        return (await self.session.execute(_LIST, self.params)).all()

    async def key_id_of(self, row_id: int) -> str | None:
        found = await self.session.execute(_GET, {**self.params, "row_id": row_id})
        key_id = found.scalar_one_or_none()
        return None if key_id is None else str(key_id)

    async def revoke(self, row_id: int, at: datetime) -> None:
        await self.session.execute(_REVOKE, {**self.params, "row_id": row_id, "at": at})

    async def find(self, key_id: str) -> AnyRow | None:
        return (await self.session.execute(_FIND, {"key_id": key_id})).one_or_none()

    async def touch(self, used: Mapping[str, datetime]) -> None:
        rows = [{"k_id": key_id, "used_at": at} for key_id, at in used.items()]
        await self.session.execute(_TOUCH, rows)
