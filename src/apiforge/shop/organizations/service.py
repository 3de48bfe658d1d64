"""Organizations rules: creating one (its creator becomes the owner), listing a user's, and
managing members. Roles are a ladder (shop.roles.OrgRole): nobody grants a role above their
own or changes a member who outranks them, and the last owner can neither leave nor be
demoted. A membership change reaches every worker's cached role at commit."""

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Identity, TenantAccess, TenantScope, after_commit
from apiforge.shop.accounts.service import UserDirectory
from apiforge.shop.organizations.errors import (
    AlreadyMemberError,
    LastOwnerError,
    MemberNotFoundError,
    RoleTooHighError,
    UnknownUserError,
)
from apiforge.shop.organizations.repository import (
    AnyRow,
    MembershipRepository,
    OrganizationRepository,
)
from apiforge.shop.organizations.schemas import (
    MemberAdd,
    MemberRead,
    OrganizationCreate,
    OrganizationRead,
)
from apiforge.shop.permissions import ORG_ROLES, ORGANIZATION
from apiforge.shop.roles import OrgRole
from apiforge.shop.tenancy import OrganizationNotFoundError


def _read(row: AnyRow, role: str) -> OrganizationRead:
    return OrganizationRead.model_construct(
        id=row.id, name=row.name, created_at=row.created_at, role=OrgRole(role)
    )


class OrganizationService:
    def __init__(self, session: AsyncSession, *, identity: Identity | None = None) -> None:
        self.session = session
        self.identity = identity
        self.organizations = OrganizationRepository(session)
        self.users = UserDirectory(session)

    async def create(self, user_id: int, data: OrganizationCreate) -> OrganizationRead:
        row = await self.organizations.add(data.name)
        await MembershipRepository(self.session, TenantScope(row.id)).add(user_id, OrgRole.OWNER)
        self._forget(row.id, user_id)  # a cached "not a member" must not outlive the commit
        return _read(row, OrgRole.OWNER)

    async def mine(self, user_id: int) -> list[OrganizationRead]:
        return [_read(row, row.role) for row in await self.organizations.of_user(user_id)]

    async def get(self, access: TenantAccess) -> OrganizationRead:
        row = await self.organizations.get(access.tenant_id)
        if row is None:  # deleted since the membership was cached
            raise OrganizationNotFoundError("No such organization.")
        return _read(row, access.role or OrgRole.VIEWER)

    async def role_of(self, organization_id: int, user_id: int) -> str | None:
        """The member's role, for the identity store (None: not a member)."""
        return await MembershipRepository(self.session, TenantScope(organization_id)).role_of(
            user_id
        )

    async def members(self, access: TenantAccess) -> list[MemberRead]:
        rows = await MembershipRepository(self.session, access.scope).all()
        return [
            MemberRead.model_construct(
                user_id=row.user_id,
                email=row.email,
                full_name=row.full_name,
                role=OrgRole(row.role),
                joined_at=row.joined_at,
            )
            for row in rows
        ]

    async def add_member(self, access: TenantAccess, data: MemberAdd) -> MemberRead:
        _grantable(access, data.role)
        user = await self.users.by_email(str(data.email))
        if user is None:
            raise UnknownUserError(f"No account is registered as {data.email}.")
        members = MembershipRepository(self.session, access.scope)
        if await members.role_of(user.id) is not None:
            raise AlreadyMemberError(f"{user.email} is already a member.")
        await members.add(user.id, data.role)
        self._forget(access.tenant_id, user.id)
        return next(m for m in await self.members(access) if m.user_id == user.id)

    async def change_role(self, access: TenantAccess, user_id: int, role: OrgRole) -> MemberRead:
        await self.organizations.lock(access.tenant_id)
        members = MembershipRepository(self.session, access.scope)
        current = await self._member_role(members, user_id)
        _grantable(access, role)
        _outranks_not(access, current)
        if current == OrgRole.OWNER and role != OrgRole.OWNER:
            await _keep_an_owner(members)
        await members.set_role(user_id, role)
        self._forget(access.tenant_id, user_id)
        return next(m for m in await self.members(access) if m.user_id == user_id)

    async def remove_member(self, access: TenantAccess, user_id: int) -> None:
        """Remove a member (admins and owners), or leave (anyone, for themselves)."""
        await self.organizations.lock(access.tenant_id)
        members = MembershipRepository(self.session, access.scope)
        current = await self._member_role(members, user_id)
        if str(user_id) != access.principal.subject:
            if not ORG_ROLES.at_least(access.role, ORGANIZATION["members:manage"].min_role):
                raise RoleTooHighError("Only admins and owners remove other members.")
            _outranks_not(access, current)
        if current == OrgRole.OWNER:
            await _keep_an_owner(members)
        await members.remove(user_id)
        self._forget(access.tenant_id, user_id)

    async def _member_role(self, members: MembershipRepository, user_id: int) -> str:
        role = await members.role_of(user_id)
        if role is None:
            raise MemberNotFoundError(f"User {user_id} is not a member.")
        return role

    def _forget(self, organization_id: int, user_id: int) -> None:
        identity = self.identity
        if identity is None:
            return

        async def forget() -> None:
            await identity.forget_membership(organization_id, str(user_id))

        after_commit(self.session, forget)


def _grantable(access: TenantAccess, role: str) -> None:
    if not ORG_ROLES.at_least(access.role, role):
        raise RoleTooHighError(f"Your role ({access.role}) cannot grant {role}.")


def _outranks_not(access: TenantAccess, target_role: str) -> None:
    if not ORG_ROLES.at_least(access.role, target_role):
        raise RoleTooHighError(
            f"Your role ({access.role}) cannot change a member who is {target_role}."
        )


async def _keep_an_owner(members: MembershipRepository) -> None:
    if await members.owner_count() <= 1:
        raise LastOwnerError("The last owner cannot leave or be demoted; make another owner first.")
