"""The shop's roles and API-key scopes as enums: the vocabulary `permissions.py` writes its
rules in, importable by any domain without the rules' FastAPI wiring."""

from enum import StrEnum


class Role(StrEnum):
    """Platform roles (on the user's account)."""

    CUSTOMER = "customer"
    ADMIN = "admin"


class OrgRole(StrEnum):
    """Organization roles, least powerful first (the ladder's order)."""

    VIEWER = "viewer"
    BUYER = "buyer"
    ADMIN = "admin"
    OWNER = "owner"


class Scope(StrEnum):
    """What an organization's API key may be granted (documented in the README)."""

    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    MEMBERS_READ = "members:read"
