"""The demo seed on both databases: idempotent, deterministic, development only."""

import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from apiforge.kit import (
    Database,
    DatabaseSettings,
    Environment,
    Migrations,
    PasswordHasher,
    cross_tenant,
    table_of,
)
from apiforge.kit.testing import migrated_database
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.models import metadata
from apiforge.shop.seed import CATEGORIES, SeedRefusedError, demo_products, seed_demo
from apiforge.shop.settings import ShopSettings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def seed_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated database of this module's own: the seed commits, so it cannot share the
    rolled-back test database."""
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgres" else None
    async with migrated_database(
        request.param,
        Migrations(MIGRATIONS_DIR),
        directory=tmp_path_factory.mktemp("seed"),
        name=f"apiforge_seed_{os.getpid()}",
        postgres_admin=admin,
    ) as url:
        yield url


@pytest.fixture
async def seed_db(seed_url: str) -> AsyncIterator[Database]:
    """The seed database, emptied before the test."""
    database = Database.from_url(seed_url, DatabaseSettings(pool_size=1))
    async with database.transaction() as session:
        for table in reversed(metadata.sorted_tables):
            await session.execute(cross_tenant(table.delete(), reason="emptying the database"))
    yield database
    await database.dispose()


def _settings(url: str, **overrides: object) -> ShopSettings:
    return ShopSettings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,
        **overrides,  # type: ignore[arg-type]  # each test passes valid field values
    )


async def _count(seed_db: Database, model: type[Category | Product | User]) -> int:
    async with seed_db.transaction(write=False) as session:
        query = select(func.count()).select_from(table_of(model))
        return (await session.execute(query)).scalar_one()


async def test_seeding_twice_changes_nothing(seed_url: str, seed_db: Database) -> None:
    first = await seed_demo(_settings(seed_url), products=120)
    second = await seed_demo(_settings(seed_url), products=120)

    assert (first.categories_created, first.products_created, first.users_created) == (
        len(CATEGORIES),
        120,
        2,
    )
    assert (second.categories_created, second.products_created, second.users_created) == (0, 0, 0)
    assert second.products_total == 120
    assert await _count(seed_db, Category) == len(CATEGORIES)
    assert await _count(seed_db, Product) == 120
    assert await _count(seed_db, User) == 2


async def test_top_up_continues_the_same_sequence(seed_url: str, seed_db: Database) -> None:
    await seed_demo(_settings(seed_url), products=40)
    report = await seed_demo(_settings(seed_url), products=100)

    assert (report.products_created, report.products_total) == (60, 100)
    async with seed_db.transaction(write=False) as session:
        products = table_of(Product)
        names = list(
            (await session.execute(select(products.c.name).order_by(products.c.id))).scalars()
        )
    ids = {spec.name: 0 for spec in CATEGORIES}
    assert names == [row["name"] for row in demo_products(ids, 100)]


async def test_products_look_like_a_shop(seed_url: str, seed_db: Database) -> None:
    await seed_demo(_settings(seed_url), products=300)

    async with seed_db.transaction(write=False) as session:
        products, categories = table_of(Product), table_of(Category)
        query = select(
            products.c.name, products.c.price_minor, products.c.stock, categories.c.name
        ).join(categories)
        rows = (await session.execute(query)).all()
    nouns = {spec.name: spec.nouns for spec in CATEGORIES}
    assert len(rows) == 300
    assert all(any(noun in name for noun in nouns[category]) for name, _, _, category in rows)
    assert all(price > 0 and price % 100 == 99 for _, price, _, _ in rows)
    out_of_stock = sum(1 for _, _, stock, _ in rows if stock == 0)
    assert 0 < out_of_stock < 60
    assert len({name for name, _, _, _ in rows}) > 290


async def test_demo_users_get_roles_and_the_demo_password(seed_url: str, seed_db: Database) -> None:
    settings = _settings(seed_url, demo_password=SecretStr("another-demo-pass"))
    await seed_demo(settings, products=0)

    async with seed_db.transaction(write=False) as session:
        users = table_of(User)
        query = select(users.c.email, users.c.role, users.c.password_hash).order_by(users.c.email)
        rows = (await session.execute(query)).all()
    hasher = PasswordHasher(settings.auth)
    assert [(email, role) for email, role, _ in rows] == [
        ("admin@example.com", "admin"),
        ("customer@example.com", "customer"),
    ]
    for _, _, password_hash in rows:
        assert await hasher.verify("another-demo-pass", password_hash)
        assert not await hasher.verify("apiforge-demo", password_hash)
    assert rows[0].password_hash != rows[1].password_hash


async def test_existing_users_are_left_alone(seed_url: str, seed_db: Database) -> None:
    async with seed_db.transaction() as session:
        await session.execute(
            insert(table_of(User)).values(
                email="customer@example.com", password_hash="kept", role="customer"
            )
        )

    report = await seed_demo(_settings(seed_url), products=0)

    assert report.users_created == 1
    async with seed_db.transaction(write=False) as session:
        users = table_of(User)
        query = select(users.c.password_hash).where(users.c.email == "customer@example.com")
        assert (await session.execute(query)).scalar_one() == "kept"


async def test_refused_in_production(seed_url: str, seed_db: Database) -> None:
    settings = ShopSettings(
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("p" * 48),
        database_url=seed_url,
        _env_file=None,
    )

    with pytest.raises(SeedRefusedError) as refused:
        await seed_demo(settings, products=10)

    assert refused.value.code == "seed.refused"
    assert await _count(seed_db, Category) == 0
    assert await _count(seed_db, User) == 0
