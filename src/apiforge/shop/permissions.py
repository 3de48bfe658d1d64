"""Roles and what they may do, as data: a new permission is a line here, not a code path."""

from enum import StrEnum
from typing import Annotated

from fastapi import Depends

from apiforge.kit import Principal, require_roles


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


PERMISSIONS: dict[str, frozenset[Role]] = {
    "catalog:write": frozenset({Role.ADMIN}),
    "orders:read_all": frozenset({Role.ADMIN}),
}


def allowed(permission: str) -> object:
    """A dependency that lets through only the roles holding `permission`."""
    return Depends(require_roles(*PERMISSIONS[permission]))


CatalogWriter = Annotated[Principal, allowed("catalog:write")]
OrdersAuditor = Annotated[Principal, allowed("orders:read_all")]
