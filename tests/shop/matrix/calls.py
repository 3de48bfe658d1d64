"""A request for every line of the policy table that succeeds for an allowed caller: valid
bodies, ids that exist in organization A or belong to the right user, and a fresh object
(`Fresh`) wherever the request uses one up. A 422 here would make a refusal look like a rule,
so the matrix demands the exact success status of the allowed callers."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from tests.factories import DEFAULT_PASSWORD
from tests.shop.matrix import policy as p
from tests.shop.matrix.world import Caller, Fresh, World
from tests.shop.payments.signing import event_body, signed

NEW_PASSWORD = "another horse battery"


@dataclass(frozen=True)
class Call:
    path: dict[str, int | Fresh] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The request ends the caller's sessions: the caller needs a new token afterwards.
    ends_session: bool = False

    def url(self, template: str) -> str:
        return template.format(**self.path)

    def kwargs(self) -> dict[str, Any]:
        sent: dict[str, Any] = {"params": self.query, "headers": self.headers}
        if self.json is not None:
            sent["json"] = self.json
        if self.form is not None:
            sent["data"] = self.form
        if self.content is not None:
            sent["content"] = self.content
        return sent


async def resolve(world: World, call: Call) -> Call:
    """`call` with each `Fresh` placeholder (in the path or the body) made."""

    async def made(value: Any) -> Any:
        if isinstance(value, Fresh):
            return await world.fresh(value)
        if isinstance(value, dict):
            return {key: await made(item) for key, item in value.items()}
        if isinstance(value, list):
            return [await made(item) for item in value]
        return value

    return replace(call, path=await made(call.path), json=await made(call.json))


async def send(world: World, case: str, caller: str, call: Call) -> httpx.Response:
    """`caller` sends `call` to the operation of the policy line `case`."""
    method, template = p.operation_of(case).split(" ")
    return await world.send(method, call.url(template), world.callers[caller], **call.kwargs())


Builder = Callable[[World, Caller], Call]


def _order(w: World) -> dict[str, Any]:
    return {"items": [{"product_id": w.product_id, "quantity": 1}]}


def _product(w: World) -> dict[str, Any]:
    return {"name": w.unique("product"), "price": "9.99", "stock": 5, "category_id": w.category_id}


def _login(w: World) -> dict[str, str]:
    assert w.login_user is not None
    return {"email": w.login_user.email, "password": w.login_user.password}


def _password(c: Caller) -> dict[str, str]:
    current = c.user.password if c.user else DEFAULT_PASSWORD
    return {"current_password": current, "new_password": NEW_PASSWORD}


def _import(w: World) -> Call:
    content = json.dumps([_product(w)]).encode()
    return Call(content=content, headers={"Content-Type": "application/json"})


def _payment(w: World) -> Call:
    """A failed payment of A's order, signed by the provider: a new event id each time."""
    body = event_body("failed", w.order_of_a, reason="card_declined")
    return Call(content=body, headers=signed(body, "msg_" + w.unique("pay").replace(" ", "_")))


def _org(w: World, **ids: int | Fresh) -> dict[str, int | Fresh]:
    return {"org_id": w.org_a, **ids}


ORDER = f"GET /api/orders/{{order_id}} {p.AN_ORDER_OF_A}"
PERSONAL = f"GET /api/orders/{{order_id}} {p.A_PERSONAL_ORDER}"
CANCEL = f"POST /api/orders/{{order_id}}/cancel {p.AN_ORDER_OF_A}"
CANCEL_PERSONAL = f"POST /api/orders/{{order_id}}/cancel {p.A_PERSONAL_ORDER}"

CALLS: dict[str, Builder] = {
    "GET /health/live": lambda w, c: Call(),
    "GET /health/ready": lambda w, c: Call(),
    "POST /api/auth/register": lambda w, c: Call(
        json={"email": w.unique("new").replace(" ", "") + "@example.com", "password": NEW_PASSWORD}
    ),
    "POST /api/auth/login": lambda w, c: Call(json=_login(w)),
    "POST /api/auth/token": lambda w, c: Call(
        form={"username": _login(w)["email"], "password": _login(w)["password"]}
    ),
    "POST /api/auth/refresh": lambda w, c: Call(json={"refresh_token": Fresh.REFRESH_TOKEN}),
    "POST /api/auth/logout": lambda w, c: Call(json={"refresh_token": Fresh.REFRESH_TOKEN}),
    "POST /api/auth/logout-all": lambda w, c: Call(ends_session=True),
    "POST /api/users/me/password": lambda w, c: Call(json=_password(c), ends_session=True),
    "PATCH /api/admin/users/{user_id}": lambda w, c: Call(
        path={"user_id": w.victim}, json={"is_active": False}
    ),
    "GET /api/users/me": lambda w, c: Call(),
    "GET /api/organizations": lambda w, c: Call(),
    "POST /api/organizations": lambda w, c: Call(json={"name": w.unique("organization")}),
    "GET /api/organizations/{org_id}": lambda w, c: Call(path=_org(w)),
    "GET /api/organizations/{org_id}/members": lambda w, c: Call(path=_org(w)),
    "POST /api/organizations/{org_id}/members": lambda w, c: Call(
        path=_org(w), json={"email": Fresh.USER_EMAIL, "role": "viewer"}
    ),
    "PATCH /api/organizations/{org_id}/members/{user_id}": lambda w, c: Call(
        path=_org(w, user_id=Fresh.MEMBER_OF_A), json={"role": "buyer"}
    ),
    "DELETE /api/organizations/{org_id}/members/{user_id}": lambda w, c: Call(
        path=_org(w, user_id=Fresh.MEMBER_OF_A)
    ),
    "POST /api/organizations/{org_id}/api-keys": lambda w, c: Call(
        path=_org(w), json={"name": w.unique("key"), "scopes": ["orders:read"]}
    ),
    "GET /api/organizations/{org_id}/api-keys": lambda w, c: Call(path=_org(w)),
    "DELETE /api/organizations/{org_id}/api-keys/{key_id}": lambda w, c: Call(
        path=_org(w, key_id=Fresh.KEY_OF_A)
    ),
    "POST /api/organizations/{org_id}/webhooks": lambda w, c: Call(
        path=_org(w), json={"url": "https://93.184.216.34/in", "event_types": ["order.placed"]}
    ),
    "GET /api/organizations/{org_id}/webhooks": lambda w, c: Call(path=_org(w)),
    "GET /api/organizations/{org_id}/webhooks/{endpoint_id}": lambda w, c: Call(
        path=_org(w, endpoint_id=Fresh.WEBHOOK_OF_A)
    ),
    "PATCH /api/organizations/{org_id}/webhooks/{endpoint_id}": lambda w, c: Call(
        path=_org(w, endpoint_id=Fresh.WEBHOOK_OF_A), json={"enabled": False}
    ),
    "DELETE /api/organizations/{org_id}/webhooks/{endpoint_id}": lambda w, c: Call(
        path=_org(w, endpoint_id=Fresh.WEBHOOK_OF_A)
    ),
    "GET /api/organizations/{org_id}/webhooks/{endpoint_id}/deliveries": lambda w, c: Call(
        path=_org(w, endpoint_id=Fresh.WEBHOOK_OF_A)
    ),
    "GET /api/organizations/{org_id}/webhooks/deliveries": lambda w, c: Call(path=_org(w)),
    "POST /api/webhooks/payments": lambda w, c: _payment(w),
    "GET /api/organizations/{org_id}/orders": lambda w, c: Call(path=_org(w)),
    "POST /api/organizations/{org_id}/orders": lambda w, c: Call(path=_org(w), json=_order(w)),
    "GET /api/categories": lambda w, c: Call(),
    "POST /api/categories": lambda w, c: Call(json={"name": w.unique("category")}),
    "PATCH /api/categories/{category_id}": lambda w, c: Call(
        path={"category_id": w.category_id}, json={"description": w.unique("described")}
    ),
    "DELETE /api/categories/{category_id}": lambda w, c: Call(path={"category_id": Fresh.CATEGORY}),
    "GET /api/products": lambda w, c: Call(),
    "POST /api/products": lambda w, c: Call(json=_product(w)),
    "GET /api/products/search": lambda w, c: Call(query={"q": "matrix"}),
    "GET /api/products/{product_id}": lambda w, c: Call(path={"product_id": w.product_id}),
    "PATCH /api/products/{product_id}": lambda w, c: Call(
        path={"product_id": w.product_id}, json={"description": w.unique("described")}
    ),
    "DELETE /api/products/{product_id}": lambda w, c: Call(path={"product_id": Fresh.PRODUCT}),
    "POST /api/admin/products/import": lambda w, c: _import(w),
    "GET /api/admin/products/export": lambda w, c: Call(query={"format": "ndjson"}),
    "POST /api/orders": lambda w, c: Call(json=_order(w)),
    "GET /api/orders": lambda w, c: Call(),
    ORDER: lambda w, c: Call(path={"order_id": w.order_of_a}),
    PERSONAL: lambda w, c: Call(path={"order_id": w.personal_order}),
    CANCEL: lambda w, c: Call(path={"order_id": Fresh.ORDER_OF_A}),
    CANCEL_PERSONAL: lambda w, c: Call(path={"order_id": Fresh.PERSONAL_ORDER}),
    "GET /api/admin/orders": lambda w, c: Call(),
    "GET /api/dashboard": lambda w, c: Call(),
}
