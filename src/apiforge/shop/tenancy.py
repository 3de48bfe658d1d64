"""Organizations as the shop's tenants: the kit's `Tenancy` with the shop's role ladder, and the
route dependencies for `/api/organizations/{org_id}/...` built from the rules in
`permissions.py`. An organization out of the caller's reach is a 404 (existence does not
leak)."""

from typing import Annotated

from fastapi import Depends

from apiforge.kit import NotFoundError, Tenancy, TenantAccess, tenancy_dependency
from apiforge.shop.permissions import ORG_ROLES, ORGANIZATION


class OrganizationNotFoundError(NotFoundError):
    """No such organization, or one the caller is not a member of (existence does not leak)."""

    code = "organizations.not_found"


TENANCY = Tenancy(
    ORG_ROLES,
    path_param="org_id",
    not_found=OrganizationNotFoundError,
    not_found_detail="No such organization.",
)


def in_organization(permission: str) -> object:
    """The caller's access to the path's organization, holding `permission` (401, 403, or the
    organization's 404 otherwise)."""
    return Depends(tenancy_dependency(TENANCY, ORGANIZATION[permission]))


OrganizationReader = Annotated[TenantAccess, in_organization("organization:read")]
MembersReader = Annotated[TenantAccess, in_organization("members:read")]
MembersManager = Annotated[TenantAccess, in_organization("members:manage")]
OrgOrdersReader = Annotated[TenantAccess, in_organization("orders:read")]
OrgOrdersBuyer = Annotated[TenantAccess, in_organization("orders:place")]
ApiKeysManager = Annotated[TenantAccess, in_organization("api_keys:manage")]
WebhooksManager = Annotated[TenantAccess, in_organization("webhooks:manage")]
