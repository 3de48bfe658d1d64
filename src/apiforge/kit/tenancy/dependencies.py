"""The route form of tenancy: `tenancy_dependency(tenancy, rule)` reads the tenant id from the
path, authenticates the caller and checks the rule, so a handler receives a `TenantAccess`
(or the request ends with 401, 403 or the tenant's 404)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Path, Request

from apiforge.kit.auth.principal import Principal
from apiforge.kit.identity.dependencies import CurrentPrincipal
from apiforge.kit.inputs import MAX_BIGINT
from apiforge.kit.state import app_state
from apiforge.kit.tenancy.access import Tenancy, TenantAccess, TenantRule


def tenancy_dependency(
    tenancy: Tenancy, rule: TenantRule
) -> Callable[[Request, int, Principal], Awaitable[TenantAccess]]:
    """A dependency for routes under `/{<tenancy.path_param>}/...`:
    `OrgOrders = Annotated[TenantAccess, Depends(tenancy_dependency(tenancy, rule))]`."""
    TenantId = Annotated[int, Path(alias=tenancy.path_param, ge=1, le=MAX_BIGINT)]  # noqa: N806  # a type alias

    async def access(
        request: Request, tenant_id: TenantId, principal: CurrentPrincipal
    ) -> TenantAccess:
        identity = app_state(request.app).identity
        return await tenancy.check(identity, principal, tenant_id, rule)

    return access
