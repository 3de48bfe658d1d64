"""Organizations over HTTP: create and list mine; read one; members (list, add, change role,
remove or leave)."""

from fastapi import APIRouter, status

from apiforge.kit import PathId, UserPrincipal, problem_responses, rate_limit
from apiforge.shop.organizations.dependencies import OrganizationReads, OrganizationWrites
from apiforge.shop.organizations.schemas import (
    MemberAdd,
    MemberRead,
    MemberUpdate,
    OrganizationCreate,
    OrganizationRead,
)
from apiforge.shop.ratelimits import AUTHENTICATED, WRITES
from apiforge.shop.tenancy import MembersManager, MembersReader, OrganizationReader

router = APIRouter(
    prefix="/api/organizations", tags=["organizations"], dependencies=[rate_limit(*AUTHENTICATED)]
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
    dependencies=[rate_limit(WRITES)],
)
async def create_organization(
    body: OrganizationCreate, principal: UserPrincipal, organizations: OrganizationWrites
) -> OrganizationRead:
    """Create an organization; you become its owner."""
    return await organizations.create(principal.id, body)


@router.get("", responses=problem_responses(401, 403))
async def list_my_organizations(
    principal: UserPrincipal, organizations: OrganizationReads
) -> list[OrganizationRead]:
    """The organizations you belong to, with your role in each."""
    return await organizations.mine(principal.id)


@router.get("/{org_id}", responses=problem_responses(401, 403, 404, 422))
async def get_organization(
    access: OrganizationReader, organizations: OrganizationReads
) -> OrganizationRead:
    return await organizations.get(access)


@router.get("/{org_id}/members", responses=problem_responses(401, 403, 404, 422))
async def list_members(access: MembersReader, organizations: OrganizationReads) -> list[MemberRead]:
    return await organizations.members(access)


@router.post(
    "/{org_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def add_member(
    body: MemberAdd, access: MembersManager, organizations: OrganizationWrites
) -> MemberRead:
    """Add a registered user by email (admins and owners; never with a role above yours)."""
    return await organizations.add_member(access, body)


@router.patch(
    "/{org_id}/members/{user_id}",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def change_member_role(
    user_id: PathId, body: MemberUpdate, access: MembersManager, organizations: OrganizationWrites
) -> MemberRead:
    """Change a member's role (never above yours, never of someone who outranks you; the last
    owner cannot be demoted: 409)."""
    return await organizations.change_role(access, user_id, body.role)


@router.delete(
    "/{org_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[rate_limit(WRITES)],
)
async def remove_member(
    user_id: PathId, access: OrganizationReader, organizations: OrganizationWrites
) -> None:
    """Remove a member (admins and owners), or leave (any member, with their own id). The
    last owner cannot leave: 409."""
    await organizations.remove_member(access, user_id)
