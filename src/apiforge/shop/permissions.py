"""Who may do what, as data: a new permission is a line here, not a code path.

Two kinds of role. A user's platform role (`customer`, `admin`) is on their account and
governs the catalog and the platform-wide views. An organization role (`viewer` < `buyer` <
`admin` < `owner`, each holding the rights of those below) is per membership and governs
what a member may do for that organization; an API key acts for its organization with the
scopes it was given, and a scope maps onto the same rules."""

from typing import Annotated

from fastapi import Depends

from apiforge.kit import Principal, RoleLadder, TenantRule, require_roles
from apiforge.shop.roles import OrgRole, Role, Scope

ORG_ROLES = RoleLadder(OrgRole)

PLATFORM: dict[str, frozenset[Role]] = {
    "catalog:write": frozenset({Role.ADMIN}),
    "orders:read_all": frozenset({Role.ADMIN}),
    "users:manage": frozenset({Role.ADMIN}),
}

# Rights within an organization: the least role that holds it, and the API-key scope that
# grants it (None: never through a key; keys do not manage people or keys).
ORGANIZATION: dict[str, TenantRule] = {
    "organization:read": TenantRule(OrgRole.VIEWER),
    "members:read": TenantRule(OrgRole.VIEWER, scope=Scope.MEMBERS_READ),
    "members:manage": TenantRule(OrgRole.ADMIN),
    "orders:read": TenantRule(OrgRole.VIEWER, scope=Scope.ORDERS_READ),
    "orders:place": TenantRule(OrgRole.BUYER, scope=Scope.ORDERS_WRITE),
    "orders:cancel": TenantRule(OrgRole.BUYER, scope=Scope.ORDERS_WRITE),
    "api_keys:manage": TenantRule(OrgRole.ADMIN),
    # Endpoints receive the organization's events and hold a signing secret: managers only.
    "webhooks:manage": TenantRule(OrgRole.ADMIN),
}

# The least organization role whose holder may grant each scope to a key: a key never does
# more than its creator could.
SCOPE_GRANTORS: dict[Scope, OrgRole] = {
    Scope.ORDERS_READ: OrgRole.VIEWER,
    Scope.ORDERS_WRITE: OrgRole.BUYER,
    Scope.MEMBERS_READ: OrgRole.VIEWER,
}


def allowed(permission: str) -> object:
    """A dependency that lets through only the platform roles holding `permission`."""
    return Depends(require_roles(*PLATFORM[permission]))


CatalogWriter = Annotated[Principal, allowed("catalog:write")]
OrdersAuditor = Annotated[Principal, allowed("orders:read_all")]
UserManager = Annotated[Principal, allowed("users:manage")]
