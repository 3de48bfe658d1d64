"""Tenancy: who may act for a tenant (an organization, say) and with which rights, as data (a
role ladder and rules), checked per request from cached lookups; a tenant out of reach is a
404. Statements are confined to their tenant by kit.db's `scoped`/`bind_tenant`. Not for:
storing tenants or memberships (the service's tables)."""

from apiforge.kit.tenancy.access import (
    Tenancy,
    TenantAccess,
    TenantNotFoundError,
    TenantRule,
)
from apiforge.kit.tenancy.dependencies import tenancy_dependency
from apiforge.kit.tenancy.roles import RoleLadder

__all__ = [
    "RoleLadder",
    "Tenancy",
    "TenantAccess",
    "TenantNotFoundError",
    "TenantRule",
    "tenancy_dependency",
]
