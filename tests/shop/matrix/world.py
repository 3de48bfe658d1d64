"""The callers of the authorization matrix and the world they act in, built through the API
itself where the API can build it: organization A (an owner, an admin, a buyer, a viewer and
API keys with each scope, one revoked, one expired), organization B (an owner and a key), a
customer and a platform admin with no organization, a product, an order of A's and a personal
order of A's buyer. Objects a request uses up (a member to remove, a key to revoke, an order
to cancel) are made fresh for each request (`Fresh`). Every answer is kept (`answers`) for
the checks of tests/shop/matrix/shapes.py, and every API key shown (`secrets`).

The world lives on committed data (`pytest.mark.committed`): what the test writes itself is
committed at once, so the app's connections see it and no snapshot outlives a change."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Principal, TenantScope, app_state, scoped, utcnow
from apiforge.shop.accounts.models import User
from apiforge.shop.api_keys.repository import api_keys
from apiforge.shop.roles import OrgRole, Scope
from tests.factories import (
    UserWithPassword,
    auth_headers,
    create_category,
    create_product,
    create_user,
)
from tests.shop.matrix import policy as p

# Expiring a key is a matter of time; the test moves its expiry into the past instead (before
# the key's first use: no cached copy holds the old expiry).
_EXPIRE_KEY = scoped(
    update(api_keys).where(api_keys.c.id == bindparam("row_id")).values(expires_at=bindparam("at")),
    api_keys,
)
EVERY_SCOPE = [scope.value for scope in Scope]


class Fresh(Enum):
    """An object made for one request (the request uses it up), in place of an id or a
    value in a `Call`."""

    USER_EMAIL = "a registered user's email, not a member of anything"
    MEMBER_OF_A = "a viewer of A"
    KEY_OF_A = "an API key of A"
    ORDER_OF_A = "an order of A, placed by its buyer"
    PERSONAL_ORDER = "a personal order of A's buyer"
    REFRESH_TOKEN = "a refresh token of the login user"
    CATEGORY = "an empty category"
    PRODUCT = "a product nobody ordered"
    WEBHOOK_OF_A = "a webhook endpoint of A"


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    user: UserWithPassword | None = None


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    session: AsyncSession
    callers: dict[str, Caller] = field(default_factory=dict)
    answers: list[httpx.Response] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    org_a: int = 0
    org_b: int = 0
    category_id: int = 0
    product_id: int = 0
    order_of_a: int = 0
    personal_order: int = 0
    victim: int = 0  # a user the platform admin disables
    login_user: UserWithPassword | None = None
    _counter: "itertools.count[int]" = field(default_factory=itertools.count)

    def unique(self, prefix: str) -> str:
        return f"{prefix} {next(self._counter)}"

    async def send(
        self,
        method: str,
        path: str,
        caller: Caller,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        sent = {**caller.headers, **(headers or {})}
        response = await self.client.request(method, path, headers=sent, **kwargs)
        self.answers.append(response)
        if response.content and response.headers.get("content-type") == "application/json":
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("key"), str):
                self.secrets.add(body["key"])
        return response

    async def ok(self, method: str, path: str, caller: str, **kwargs: Any) -> Any:
        """The JSON answer of a request of the world's set-up, which must succeed."""
        response = await self.send(method, path, self.callers[caller], **kwargs)
        assert response.is_success, f"{method} {path} as {caller}: {response.text}"
        return response.json() if response.content else None

    async def user(self, role: str = "customer") -> UserWithPassword:
        email = self.unique("user").replace(" ", "") + "@example.com"
        user = await create_user(self.app, self.session, email=email, role=role)
        await self.session.commit()
        return user

    async def renew(self, caller: Caller) -> None:
        """A new access token for a user whose sessions a request just ended (logout
        everywhere, a password change), so that the next operation sees them signed in."""
        user = caller.user
        assert user is not None, caller.name
        generation = await self.session.scalar(
            select(User.token_generation).where(User.id == user.id)
        )
        await self.session.commit()  # no snapshot held: the next read sees the next change
        principal = Principal(subject=str(user.id), role=user.role, generation=generation or 0)
        token = app_state(self.app).tokens.issue(principal).token
        caller.headers = {"Authorization": f"Bearer {token}"}

    # -- objects made for one request

    async def fresh(self, kind: Fresh) -> int | str:
        if kind is Fresh.USER_EMAIL:
            return (await self.user()).email
        if kind is Fresh.MEMBER_OF_A:
            return await self.add_member((await self.user()).email, OrgRole.VIEWER)
        if kind is Fresh.KEY_OF_A:
            return (await self.create_key(self.org_a, p.OWNER_A, [Scope.ORDERS_READ]))[0]
        if kind is Fresh.ORDER_OF_A:
            return await self.place(f"/api/organizations/{self.org_a}/orders")
        if kind is Fresh.PERSONAL_ORDER:
            return await self.place("/api/orders")
        if kind is Fresh.REFRESH_TOKEN:
            return str((await self.login())["refresh_token"])
        if kind is Fresh.WEBHOOK_OF_A:
            body = {"url": "https://93.184.216.34/hook", "event_types": ["order.paid"]}
            path = f"/api/organizations/{self.org_a}/webhooks"
            return int((await self.ok("POST", path, p.OWNER_A, json=body))["id"])
        category = await create_category(self.session, name=self.unique("category"))
        made = category.id
        if kind is Fresh.PRODUCT:
            made = (await create_product(self.session, category=category, name="Fresh")).id
        await self.session.commit()
        return made

    async def add_member(self, email: str, role: OrgRole) -> int:
        """The user id of a new member of A, added by A's owner."""
        path = f"/api/organizations/{self.org_a}/members"
        member = await self.ok("POST", path, p.OWNER_A, json={"email": email, "role": role})
        return int(member["user_id"])

    async def create_key(
        self, org_id: int, creator: str, scopes: list[str], *, expires_in_days: int | None = None
    ) -> tuple[int, str]:
        """(row id, the key itself) of a new key of the organization."""
        body: dict[str, Any] = {"name": self.unique("key"), "scopes": scopes}
        if expires_in_days is not None:
            body["expires_at"] = (utcnow() + timedelta(days=expires_in_days)).isoformat()
        created = await self.ok("POST", f"/api/organizations/{org_id}/api-keys", creator, json=body)
        return int(created["id"]), str(created["key"])

    async def place(self, path: str) -> int:
        items = [{"product_id": self.product_id, "quantity": 1}]
        return int((await self.ok("POST", path, p.BUYER_A, json={"items": items}))["id"])

    async def login(self) -> dict[str, Any]:
        user = self.login_user
        assert user is not None
        body = {"email": user.email, "password": user.password}
        answer: dict[str, Any] = await self.ok("POST", "/api/auth/login", p.ANONYMOUS, json=body)
        return answer


async def build_world(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> World:
    world = World(app, client, session)
    await _people(world)
    category = await create_category(session, name="Matrix")
    product = await create_product(
        session, category=category, name="Matrix part", price_minor=1000, stock=1_000_000
    )
    world.category_id, world.product_id = category.id, product.id
    await session.commit()
    world.org_a = int(
        (await world.ok("POST", "/api/organizations", p.OWNER_A, json=_org("A")))["id"]
    )
    world.org_b = int(
        (await world.ok("POST", "/api/organizations", p.OWNER_B, json=_org("B")))["id"]
    )
    for name, role in (
        (p.ADMIN_A, OrgRole.ADMIN),
        (p.BUYER_A, OrgRole.BUYER),
        (p.VIEWER_A, OrgRole.VIEWER),
    ):
        user = world.callers[name].user
        assert user is not None
        await world.add_member(user.email, role)
    await _keys(world)
    world.order_of_a = await world.place(f"/api/organizations/{world.org_a}/orders")
    world.personal_order = await world.place("/api/orders")
    return world


def _org(name: str) -> dict[str, str]:
    return {"name": f"Organization {name}"}


async def _people(world: World) -> None:
    world.callers[p.ANONYMOUS] = Caller(p.ANONYMOUS, {})
    for name in (name for name in p.CALLERS if name in p.USERS):
        user = await world.user("admin" if name == p.PLATFORM_ADMIN else "customer")
        world.callers[name] = Caller(name, auth_headers(world.app, user), user)
    world.victim = (await world.user()).id
    world.login_user = await world.user()


async def _keys(world: World) -> None:
    """A's keys with one scope each (orders:read sent as a bearer token, the others as
    `X-API-Key`), a revoked one (used before, so a cached copy must be dropped), an expired
    one, and B's key with every scope."""
    a, b = world.org_a, world.org_b
    for name, scope in (
        (p.KEY_ORDERS_READ, Scope.ORDERS_READ),
        (p.KEY_ORDERS_WRITE, Scope.ORDERS_WRITE),
        (p.KEY_MEMBERS_READ, Scope.MEMBERS_READ),
    ):
        _, key = await world.create_key(a, p.OWNER_A, [scope])
        header = (
            {"Authorization": f"Bearer {key}"} if scope is Scope.ORDERS_READ else {"X-API-Key": key}
        )
        world.callers[name] = Caller(name, header)
    _, key = await world.create_key(b, p.OWNER_B, EVERY_SCOPE)
    world.callers[p.KEY_B] = Caller(p.KEY_B, {"X-API-Key": key})

    revoked_id, key = await world.create_key(a, p.OWNER_A, EVERY_SCOPE)
    world.callers[p.KEY_REVOKED] = Caller(p.KEY_REVOKED, {"X-API-Key": key})
    await world.ok("GET", f"/api/organizations/{a}/orders", p.KEY_REVOKED)
    await world.ok("DELETE", f"/api/organizations/{a}/api-keys/{revoked_id}", p.OWNER_A)

    expired_id, key = await world.create_key(a, p.OWNER_A, EVERY_SCOPE, expires_in_days=1)
    await world.session.execute(
        _EXPIRE_KEY,
        {**TenantScope(a).params, "row_id": expired_id, "at": utcnow() - timedelta(minutes=1)},
    )
    await world.session.commit()
    world.callers[p.KEY_EXPIRED] = Caller(p.KEY_EXPIRED, {"X-API-Key": key})
