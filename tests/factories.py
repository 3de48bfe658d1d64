"""Small typed factories per domain. They flush, never commit (committed tests commit)."""

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import app_state
from apiforge.kit.testing import bearer_headers
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.organizations.models import Membership, Organization

DEFAULT_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class UserWithPassword:
    id: int
    email: str
    role: str
    password: str


async def create_user(
    app: FastAPI,
    session: AsyncSession,
    *,
    email: str = "user@example.com",
    role: str = "customer",
    password: str = DEFAULT_PASSWORD,
    full_name: str | None = "Test User",
) -> UserWithPassword:
    password_hash = await app_state(app).passwords.hash(password)
    user = User(email=email, password_hash=password_hash, full_name=full_name, role=role)
    session.add(user)
    await session.flush()
    return UserWithPassword(id=user.id, email=email, role=role, password=password)


def auth_headers(app: FastAPI, user: UserWithPassword) -> dict[str, str]:
    return bearer_headers(app, user.id, user.role)


async def warm_identity(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """One request as this caller, so that their standing (token generation, membership) is
    cached, as it is for every request but the first within the lookup TTL: a query count
    taken after this is the route's own."""
    response = await client.get("/api/users/me", headers=headers)
    assert response.status_code == 200, response.text


async def create_category(
    session: AsyncSession, *, name: str = "Laptops", description: str = ""
) -> Category:
    category = Category(name=name, description=description)
    session.add(category)
    await session.flush()
    return category


async def create_product(
    session: AsyncSession,
    *,
    category: Category,
    name: str = "Aero 14 Laptop",
    description: str = "A light laptop",
    price_minor: int = 1000,
    stock: int = 10,
    is_archived: bool = False,
) -> Product:
    product = Product(
        category_id=category.id,
        name=name,
        description=description,
        price_minor=price_minor,
        stock=stock,
        is_archived=is_archived,
    )
    session.add(product)
    await session.flush()
    return product


async def create_organization(
    session: AsyncSession,
    owner: UserWithPassword,
    *,
    name: str = "Acme",
    members: dict[str, UserWithPassword] | None = None,
) -> int:
    """An organization owned by `owner`, with `members` by role (`{"buyer": user}`); its id."""
    organization = Organization(name=name)
    session.add(organization)
    await session.flush()
    for role, user in {"owner": owner, **(members or {})}.items():
        session.add(Membership(organization_id=organization.id, user_id=user.id, role=role))
    await session.flush()
    return organization.id


async def create_api_key(
    client: httpx.AsyncClient,
    organization_id: int,
    headers: dict[str, str],
    *scopes: str,
    expires_at: str | None = None,
) -> dict[str, str]:
    """A key made through the API (as an owner or admin would), as request headers."""
    body: dict[str, object] = {"name": "test key", "scopes": list(scopes)}
    if expires_at is not None:
        body["expires_at"] = expires_at
    response = await client.post(
        f"/api/organizations/{organization_id}/api-keys", json=body, headers=headers
    )
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}
