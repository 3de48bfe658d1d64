"""Who may act for a tenant, and with which rights: a user through their membership role (a
cached lookup, no database query per request), an API key through the tenant it belongs to
and its scopes. A principal with no access to the tenant gets the tenant's 404 (existence
does not leak); one with access but not the right gets 403. Not for: statements (kit.db's
tenant scoping) or HTTP (kit.tenancy.dependencies)."""

from dataclasses import dataclass

from apiforge.kit.auth.principal import Principal
from apiforge.kit.db.tenants import TenantScope
from apiforge.kit.errors import NotFoundError, PermissionDeniedError
from apiforge.kit.identity import Identity
from apiforge.kit.tenancy.roles import RoleLadder


class TenantNotFoundError(NotFoundError):
    """404 `tenancy.not_found`: no such tenant, or one the caller may not know exists."""

    code = "tenancy.not_found"


@dataclass(frozen=True, slots=True)
class TenantRule:
    """A right within a tenant: members from `min_role` up hold it; API keys hold it with
    `scope` (None: never through an API key)."""

    min_role: str
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class TenantAccess:
    """The caller's access to one tenant: the principal, its membership `role` (None for an
    API key), and the `scope` its statements run in."""

    tenant_id: int
    principal: Principal
    role: str | None

    @property
    def scope(self) -> TenantScope:
        return TenantScope(self.tenant_id)


class Tenancy:
    """A service's tenancy: its role ladder and the error for a tenant out of reach.
    `await tenancy.check(identity, principal, tenant_id, rule)` returns `TenantAccess` or
    raises; `tenancy.requires(rule)` (kit.tenancy.dependencies) is the route form."""

    def __init__(
        self,
        ladder: RoleLadder,
        *,
        path_param: str = "tenant_id",
        not_found: type[NotFoundError] = TenantNotFoundError,
        not_found_detail: str = "No such tenant.",
    ) -> None:
        self.ladder = ladder
        self.path_param = path_param
        self.not_found = not_found
        self.not_found_detail = not_found_detail

    async def role_of(self, identity: Identity, principal: Principal, tenant_id: int) -> str | None:
        """The principal's membership role in the tenant (None for an API key, or a user who
        is not a member)."""
        if principal.is_api_key:
            return None
        return await identity.tenant_role(tenant_id, principal.subject)

    async def check(
        self, identity: Identity, principal: Principal, tenant_id: int, rule: TenantRule
    ) -> TenantAccess:
        if rule.min_role not in self.ladder:
            raise ValueError(f"{rule.min_role!r} is not on the role ladder")
        if principal.is_api_key:
            if principal.tenant_id != tenant_id:
                raise self.not_found(self.not_found_detail)
            if rule.scope is None or not principal.has_scope(rule.scope):
                raise PermissionDeniedError("This API key lacks the scope this action needs.")
            return TenantAccess(tenant_id, principal, None)
        role = await identity.tenant_role(tenant_id, principal.subject)
        if role is None:
            raise self.not_found(self.not_found_detail)
        if not self.ladder.at_least(role, rule.min_role):
            raise PermissionDeniedError(f"Your role ({role}) does not allow this action.")
        return TenantAccess(tenant_id, principal, role)
