"""The shop under PostgreSQL Row-Level Security (`APIFORGE_DB__ROW_LEVEL_SECURITY=true`, the app
connecting as a role that is not a superuser): organizations' orders are placed, listed, read
and cancelled as usual, and a query that forgets its organization, run in a transaction bound
to org A, sees none of org B's orders."""

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, select

from apiforge.kit import (
    Database,
    DatabaseSettings,
    Migrations,
    PasswordHasher,
    TenantScope,
    bind_tenant,
    cross_tenant,
    table_of,
)
from apiforge.kit.testing import migrated_database, restricted_role, running_app, worker_index
from apiforge.shop.accounts.models import User
from apiforge.shop.app import create_shop_app
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.orders.models import Order
from apiforge.shop.organizations.models import Membership, Organization
from apiforge.shop.settings import ShopSettings

pytestmark = pytest.mark.postgres_only
PASSWORD = "rls-test-password"
orders = table_of(Order)
# Deliberately unfiltered: the query a repository bug would send (marked, so the kit's own
# guard lets it through to the database, where the policy is the last line).
EVERY_ORDER = cross_tenant(select(orders.c.organization_id), reason="a test of the RLS backstop")


async def _arrange(url: str) -> dict[str, int]:
    """Two organizations with an owner each, a product, and one order per organization."""
    database = Database.from_url(url, DatabaseSettings(pool_size=1))
    hasher = PasswordHasher(ShopSettings.for_tests(url).auth)
    ids: dict[str, int] = {}
    try:
        async with database.engine.begin() as conn:
            for name in ("a", "b"):
                user = await conn.execute(
                    insert(table_of(User))
                    .values(email=f"{name}@example.com", password_hash=await hasher.hash(PASSWORD))
                    .returning(table_of(User).c.id)
                )
                org = await conn.execute(
                    insert(table_of(Organization))
                    .values(name=name)
                    .returning(table_of(Organization).c.id)
                )
                ids[f"user_{name}"], ids[name] = user.scalar_one(), org.scalar_one()
                await conn.execute(
                    insert(table_of(Membership)).values(
                        organization_id=ids[name], user_id=ids[f"user_{name}"], role="owner"
                    )
                )
            category = await conn.execute(
                insert(table_of(Category)).values(name="C").returning(table_of(Category).c.id)
            )
            product = await conn.execute(
                insert(table_of(Product))
                .values(category_id=category.scalar_one(), name="P", price_minor=100, stock=50)
                .returning(table_of(Product).c.id)
            )
            ids["product"] = product.scalar_one()
            for name in ("a", "b"):
                await conn.execute(
                    insert(orders).values(
                        organization_id=ids[name], user_id=ids[f"user_{name}"], total_minor=100
                    )
                )
    finally:
        await database.dispose()
    return ids


@pytest.fixture(scope="module")
async def rls(
    postgres_admin: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, dict[str, int]]]:
    async with migrated_database(
        "postgres",
        Migrations(MIGRATIONS_DIR),
        directory=tmp_path_factory.mktemp("rls"),
        name=f"apiforge_rls_{os.getpid()}",
        postgres_admin=postgres_admin,
    ) as url:
        ids = await _arrange(url)
        async with restricted_role(postgres_admin, url, f"shop_rls_{worker_index()}") as as_app:
            yield as_app, ids


async def test_a_forgetful_query_bound_to_org_a_sees_none_of_org_b(
    rls: tuple[str, dict[str, int]],
) -> None:
    url, ids = rls
    database = Database.from_url(url, DatabaseSettings(pool_size=1, row_level_security=True))
    try:
        async with database.read_session() as session:
            await bind_tenant(session, TenantScope(ids["a"]))
            seen = list((await session.execute(EVERY_ORDER)).scalars())
        async with database.read_session() as session:
            unbound = list((await session.execute(EVERY_ORDER)).scalars())
    finally:
        await database.dispose()
    assert seen == [ids["a"]]
    assert sorted(unbound) == sorted([ids["a"], ids["b"]])


async def test_the_shop_serves_organizations_under_rls(rls: tuple[str, dict[str, int]]) -> None:
    url, ids = rls
    settings = ShopSettings.for_tests(url, db=DatabaseSettings(row_level_security=True))
    async with running_app(create_shop_app(settings)) as client:
        token = await client.post(
            "/api/auth/login", json={"email": "a@example.com", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        base = f"/api/organizations/{ids['a']}"
        placed = await client.post(
            f"{base}/orders",
            json={"items": [{"product_id": ids["product"], "quantity": 2}]},
            headers=headers,
        )
        assert placed.status_code == 201, placed.text
        listed = await client.get(f"{base}/orders", headers=headers)
        assert {o["organization_id"] for o in listed.json()["items"]} == {ids["a"]}
        assert len(listed.json()["items"]) == 2
        cancelled = await client.post(f"/api/orders/{placed.json()['id']}/cancel", headers=headers)
        assert cancelled.json()["status"] == "cancelled"
        members = await client.get(f"{base}/members", headers=headers)
        assert [m["user_id"] for m in members.json()] == [ids["user_a"]]
        key = await client.post(
            f"{base}/api-keys", json={"name": "k", "scopes": ["orders:read"]}, headers=headers
        )
        keyed = await client.get(f"{base}/orders", headers={"X-API-Key": key.json()["key"]})
        assert keyed.status_code == 200
        other = await client.get(f"/api/organizations/{ids['b']}/orders", headers=headers)
        assert other.status_code == 404
