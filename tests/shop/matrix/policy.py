"""Who may call what: one line per operation of the OpenAPI document (`METHOD /path`, plus a
case in parentheses when one operation is tried on two kinds of object), written from the
issue's rules and `shop/permissions.py`, never read off the code under test.

A caller in `allowed` succeeds (2xx, or 304). Everyone else is refused, and how is fixed:
401 for a caller without a valid credential (anonymous, a revoked or an expired key), 404 for
one in `hidden` (the organization or the object is out of their reach: existence does not
leak), 403 for a valid caller lacking the right."""

from dataclasses import dataclass
from typing import Any

ANONYMOUS = "anonymous"
CUSTOMER = "customer"
PLATFORM_ADMIN = "platform admin"
OWNER_A = "owner of A"
ADMIN_A = "admin of A"
BUYER_A = "buyer of A"
VIEWER_A = "viewer of A"
OWNER_B = "owner of B"
KEY_ORDERS_READ = "A's key orders:read"
KEY_ORDERS_WRITE = "A's key orders:write"
KEY_MEMBERS_READ = "A's key members:read"
KEY_REVOKED = "A's revoked key"
KEY_EXPIRED = "A's expired key"
KEY_B = "B's key (every scope)"

# Every caller, in the order the matrix tries them (and reports them).
CALLERS = (
    ANONYMOUS,
    CUSTOMER,
    PLATFORM_ADMIN,
    OWNER_A,
    ADMIN_A,
    BUYER_A,
    VIEWER_A,
    OWNER_B,
    KEY_ORDERS_READ,
    KEY_ORDERS_WRITE,
    KEY_MEMBERS_READ,
    KEY_REVOKED,
    KEY_EXPIRED,
    KEY_B,
)
USERS = frozenset({CUSTOMER, PLATFORM_ADMIN, OWNER_A, ADMIN_A, BUYER_A, VIEWER_A, OWNER_B})
KEYS = frozenset({KEY_ORDERS_READ, KEY_ORDERS_WRITE, KEY_MEMBERS_READ, KEY_B})
UNAUTHENTICATED = frozenset({ANONYMOUS, KEY_REVOKED, KEY_EXPIRED})
EVERYONE = frozenset(CALLERS)

MEMBERS_OF_A = frozenset({OWNER_A, ADMIN_A, BUYER_A, VIEWER_A})
BUYERS_OF_A = frozenset({OWNER_A, ADMIN_A, BUYER_A})
MANAGERS_OF_A = frozenset({OWNER_A, ADMIN_A})
# Valid callers with no standing in organization A: the platform admin included (a platform
# role is not an organization role), and B's key (a key acts for its own organization only).
OUTSIDE_A = frozenset({CUSTOMER, PLATFORM_ADMIN, OWNER_B, KEY_B})

ALLOWED = "allowed"


@dataclass(frozen=True, slots=True)
class Rule:
    allowed: frozenset[str]
    hidden: frozenset[str] = frozenset()

    def expect(self, caller: str) -> str | int:
        """`ALLOWED`, or the status `caller` is refused with."""
        if caller in self.allowed:
            return ALLOWED
        if caller in UNAUTHENTICATED:
            return 401
        return 404 if caller in self.hidden else 403


# No credential needed; a credential sent anyway, even a revoked key, is not looked at.
PUBLIC = Rule(EVERYONE)
# A person signed in, whatever their roles; an API key acts for an organization, not a person.
SIGNED_IN = Rule(USERS)
PLATFORM_ADMINS = Rule(frozenset({PLATFORM_ADMIN}))


def in_a(*allowed: frozenset[str] | str) -> Rule:
    """A route of organization A (or an object of A's): outsiders are told it does not
    exist."""
    who = frozenset().union(*(frozenset({a}) if isinstance(a, str) else a for a in allowed))
    return Rule(who, hidden=OUTSIDE_A)


def personal_of(placer: str) -> Rule:
    """A personal order: its placer's alone; for anyone else it does not exist, whatever
    their roles or their organization (the placer's organization included)."""
    return Rule(frozenset({placer}), hidden=(USERS | KEYS) - {placer})


AN_ORDER_OF_A = "(an order of A)"
A_PERSONAL_ORDER = "(a personal order of A's buyer)"

POLICY: dict[str, Rule] = {
    "GET /health/live": PUBLIC,
    "GET /health/ready": PUBLIC,
    "POST /api/auth/register": PUBLIC,
    "POST /api/auth/login": PUBLIC,
    "POST /api/auth/token": PUBLIC,
    "POST /api/auth/refresh": PUBLIC,
    "POST /api/auth/logout": PUBLIC,
    "POST /api/auth/logout-all": SIGNED_IN,
    "POST /api/users/me/password": SIGNED_IN,
    "PATCH /api/admin/users/{user_id}": PLATFORM_ADMINS,
    "GET /api/users/me": SIGNED_IN,
    "GET /api/organizations": SIGNED_IN,
    "POST /api/organizations": SIGNED_IN,
    # Organization routes: keys only where permissions.py names a scope.
    "GET /api/organizations/{org_id}": in_a(MEMBERS_OF_A),
    "GET /api/organizations/{org_id}/members": in_a(MEMBERS_OF_A, KEY_MEMBERS_READ),
    "POST /api/organizations/{org_id}/members": in_a(MANAGERS_OF_A),
    "PATCH /api/organizations/{org_id}/members/{user_id}": in_a(MANAGERS_OF_A),
    # Removing another member (leaving, with one's own id, is any member's right).
    "DELETE /api/organizations/{org_id}/members/{user_id}": in_a(MANAGERS_OF_A),
    "POST /api/organizations/{org_id}/api-keys": in_a(MANAGERS_OF_A),
    "GET /api/organizations/{org_id}/api-keys": in_a(MANAGERS_OF_A),
    "DELETE /api/organizations/{org_id}/api-keys/{key_id}": in_a(MANAGERS_OF_A),
    "POST /api/organizations/{org_id}/webhooks": in_a(MANAGERS_OF_A),
    "GET /api/organizations/{org_id}/webhooks": in_a(MANAGERS_OF_A),
    "GET /api/organizations/{org_id}/webhooks/{endpoint_id}": in_a(MANAGERS_OF_A),
    "PATCH /api/organizations/{org_id}/webhooks/{endpoint_id}": in_a(MANAGERS_OF_A),
    "DELETE /api/organizations/{org_id}/webhooks/{endpoint_id}": in_a(MANAGERS_OF_A),
    "GET /api/organizations/{org_id}/webhooks/{endpoint_id}/deliveries": in_a(MANAGERS_OF_A),
    "GET /api/organizations/{org_id}/webhooks/deliveries": in_a(MANAGERS_OF_A),
    # The provider's signature is the credential: whoever else calls, the signed event counts.
    "POST /api/webhooks/payments": PUBLIC,
    "GET /api/organizations/{org_id}/orders": in_a(MEMBERS_OF_A, KEY_ORDERS_READ),
    "POST /api/organizations/{org_id}/orders": in_a(BUYERS_OF_A, KEY_ORDERS_WRITE),
    "GET /api/categories": PUBLIC,
    "POST /api/categories": PLATFORM_ADMINS,
    "PATCH /api/categories/{category_id}": PLATFORM_ADMINS,
    "DELETE /api/categories/{category_id}": PLATFORM_ADMINS,
    "GET /api/products": PUBLIC,
    "POST /api/products": PLATFORM_ADMINS,
    "GET /api/products/search": PUBLIC,
    "GET /api/products/{product_id}": PUBLIC,
    "PATCH /api/products/{product_id}": PLATFORM_ADMINS,
    "DELETE /api/products/{product_id}": PLATFORM_ADMINS,
    "POST /api/admin/products/import": PLATFORM_ADMINS,
    "GET /api/admin/products/export": PLATFORM_ADMINS,
    "POST /api/orders": SIGNED_IN,
    "GET /api/orders": SIGNED_IN,
    # The platform admin reads everyone's orders at /api/admin/orders, not here: an order
    # route serves its placer or its organization.
    f"GET /api/orders/{{order_id}} {AN_ORDER_OF_A}": in_a(MEMBERS_OF_A, KEY_ORDERS_READ),
    f"GET /api/orders/{{order_id}} {A_PERSONAL_ORDER}": personal_of(BUYER_A),
    # Any buyer cancels any of the organization's orders, an orders:write key included.
    f"POST /api/orders/{{order_id}}/cancel {AN_ORDER_OF_A}": in_a(BUYERS_OF_A, KEY_ORDERS_WRITE),
    f"POST /api/orders/{{order_id}}/cancel {A_PERSONAL_ORDER}": personal_of(BUYER_A),
    "GET /api/admin/orders": PLATFORM_ADMINS,
    "GET /api/dashboard": SIGNED_IN,
}


def operation_of(case: str) -> str:
    """`METHOD /path` of a policy line (without its case)."""
    method, path = case.split(" ")[:2]
    return f"{method} {path}"


def documented_operations(document: dict[str, Any]) -> list[str]:
    paths: dict[str, dict[str, Any]] = document["paths"]
    return [f"{method.upper()} {path}" for path, item in paths.items() for method in item]


def cases_in_order(document: dict[str, Any]) -> list[str]:
    """The policy's lines in the document's order of operations."""
    order = {operation: i for i, operation in enumerate(documented_operations(document))}
    return sorted(POLICY, key=lambda case: (order.get(operation_of(case), -1), case))
