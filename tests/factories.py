"""Small typed factories per domain. They flush, never commit (committed tests commit)."""

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import app_state
from apiforge.kit.testing import bearer_headers
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product

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
