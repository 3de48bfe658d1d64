"""All organizations SQL. Memberships are tenant-owned: every statement on them is scoped to
one organization (`scoped`), except the one deliberately listing a user's memberships across
organizations."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import TenantScope, cross_tenant, scoped, table_of
from apiforge.shop.accounts.models import User
from apiforge.shop.organizations.models import Membership, Organization

organizations = table_of(Organization)
memberships = table_of(Membership)
users = table_of(User)

AnyRow = Row[*tuple[Any, ...]]

_ORG_COLUMNS = (organizations.c.id, organizations.c.name, organizations.c.created_at)
_ROLE_OF = scoped(
    select(memberships.c.role).where(memberships.c.user_id == bindparam("user_id")),
    memberships,
)
_ADD_MEMBER = scoped(insert(memberships), memberships)
_MEMBERS = scoped(
    select(
        memberships.c.user_id,
        users.c.email,
        users.c.full_name,
        memberships.c.role,
        memberships.c.created_at.label("joined_at"),
    )
    .join(users, users.c.id == memberships.c.user_id)
    .order_by(memberships.c.id),
    memberships,
)
# Named SET values: without them the update sets every column the parameters name, and
# `user_id`, a column, is also the WHERE clause's parameter (a CompileError: every role
# change was a 500).
_SET_ROLE = scoped(
    update(memberships)
    .where(memberships.c.user_id == bindparam("member_id"))
    .values(role=bindparam("new_role")),
    memberships,
)
_REMOVE = scoped(
    delete(memberships).where(memberships.c.user_id == bindparam("user_id")), memberships
)
_OWNERS = scoped(
    select(func.count()).select_from(memberships).where(memberships.c.role == "owner"),
    memberships,
)
_MINE = cross_tenant(
    select(*_ORG_COLUMNS, memberships.c.role)
    .join(memberships, memberships.c.organization_id == organizations.c.id)
    .where(memberships.c.user_id == bindparam("user_id"))
    .order_by(organizations.c.id),
    reason="a user's own memberships, across the organizations they belong to",
)


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str) -> AnyRow:
        statement = insert(organizations).values(name=name).returning(*_ORG_COLUMNS)
        return (await self.session.execute(statement)).one()

    async def get(self, organization_id: int) -> AnyRow | None:
        query = select(*_ORG_COLUMNS).where(organizations.c.id == organization_id)
        return (await self.session.execute(query)).one_or_none()

    async def lock(self, organization_id: int) -> None:
        """Lock the organization's row until the transaction ends: membership changes that
        count owners run one at a time (two owners demoting each other cannot both win)."""
        query = select(organizations.c.id).where(organizations.c.id == organization_id)
        await self.session.execute(query.with_for_update())

    async def of_user(self, user_id: int) -> Sequence[AnyRow]:
        return (await self.session.execute(_MINE, {"user_id": user_id})).all()


class MembershipRepository:
    """Memberships of the organization in `scope`."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.params = scope.params

    async def role_of(self, user_id: int) -> str | None:
        found = await self.session.execute(_ROLE_OF, {**self.params, "user_id": user_id})
        role = found.scalar_one_or_none()
        return None if role is None else str(role)

    async def add(self, user_id: int, role: str) -> None:
        await self.session.execute(_ADD_MEMBER, {**self.params, "user_id": user_id, "role": role})

    async def all(self) -> Sequence[AnyRow]:
        return (await self.session.execute(_MEMBERS, self.params)).all()

    async def set_role(self, user_id: int, role: str) -> None:
        params = {**self.params, "member_id": user_id, "new_role": role}
        await self.session.execute(_SET_ROLE, params)

    async def remove(self, user_id: int) -> None:
        await self.session.execute(_REMOVE, {**self.params, "user_id": user_id})

    async def owner_count(self) -> int:
        return int((await self.session.execute(_OWNERS, self.params)).scalar_one())
