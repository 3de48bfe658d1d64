"""Demo data for development: a dozen categories, N products with plausible names, prices and
stock, two users (an admin and a customer) whose password is `demo_password`
(APIFORGE_DEMO_PASSWORD), and an organization (`Acme Corp`) the customer owns.

Idempotent: what exists is kept (categories by name, users by email) and products are topped
up to N, so `make run` can seed on every start. The products come from `random.Random(seed)`,
so product i is the same on every machine and a top-up continues the same sequence. Writes go
through Core executemany on the tables: 10,000 rows in batches, not 10,000 ORM objects, and no
dependency on the accounts service.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    Database,
    Environment,
    PasswordHasher,
    PermissionDeniedError,
    scoped,
    table_of,
)
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.organizations.models import Membership, Organization
from apiforge.shop.roles import OrgRole, Role
from apiforge.shop.settings import ShopSettings

DEFAULT_PRODUCTS = 10_000
DEFAULT_RNG_SEED = 20_240_601
BATCH_SIZE = 1_000
SEED_ENVIRONMENTS = frozenset({Environment.DEVELOPMENT, Environment.TEST})
DEMO_USERS: tuple[tuple[str, Role], ...] = (
    ("admin@example.com", Role.ADMIN),
    ("customer@example.com", Role.CUSTOMER),
)
DEMO_ORGANIZATION = "Acme Corp"
DEMO_ORGANIZATION_OWNER = "customer@example.com"


@dataclass(frozen=True)
class CategorySpec:
    name: str
    description: str
    nouns: tuple[str, ...]
    # Whole currency units; prices end in .99 like a shop's.
    min_price: int
    max_price: int


CATEGORIES = (
    CategorySpec("Laptops", "Portable computers for work and play.",
                 ("Laptop", "Notebook", "Ultrabook", "Chromebook"), 399, 2999),
    CategorySpec("Phones", "Smartphones, unlocked and ready.",
                 ("Smartphone", "Phone", "Flip Phone"), 149, 1299),
    CategorySpec("Audio", "Headphones, earbuds and speakers.",
                 ("Headphones", "Earbuds", "Headset", "Speaker"), 19, 449),
    CategorySpec("Monitors", "Displays for desks of every size.",
                 ("Monitor", "Display", "Portable Monitor"), 119, 1499),
    CategorySpec("Keyboards & Mice", "Input devices that feel right.",
                 ("Keyboard", "Mouse", "Trackpad", "Keypad"), 15, 229),
    CategorySpec("Cameras", "Cameras, lenses and action cams.",
                 ("Camera", "Lens", "Action Cam", "Tripod"), 49, 2499),
    CategorySpec("Smart Home", "Connected devices for the home.",
                 ("Thermostat", "Doorbell", "Light Strip", "Smart Plug"), 19, 299),
    CategorySpec("Kitchen", "Appliances and tools for the kitchen.",
                 ("Blender", "Kettle", "Coffee Grinder", "Toaster", "Espresso Machine"), 19, 699),
    CategorySpec("Furniture", "Desks, chairs and storage.",
                 ("Desk", "Office Chair", "Bookshelf", "Desk Lamp"), 39, 899),
    CategorySpec("Outdoor", "Gear for camping and hiking.",
                 ("Tent", "Backpack", "Sleeping Bag", "Water Bottle"), 9, 499),
    CategorySpec("Fitness", "Equipment for training at home.",
                 ("Yoga Mat", "Dumbbell Set", "Running Shoes", "Fitness Tracker"), 12, 349),
    CategorySpec("Toys & Games", "Games, puzzles and building sets.",
                 ("Board Game", "Puzzle", "Building Set", "Drone"), 9, 199),
)  # fmt: skip

ADJECTIVES = (
    "Compact", "Ultralight", "Classic", "Wireless", "Rugged", "Slim", "Smart", "Premium",
    "Essential", "Portable", "Deluxe", "Silent", "Advanced", "Eco", "Studio", "Travel",
)  # fmt: skip
BRANDS = (
    "Aero", "Nordvik", "Lumen", "Kestrel", "Solace", "Vantor", "Orbis", "Halcyon",
    "Pinecrest", "Brightwell", "Tidewater", "Ferro", "Quill", "Zephyr", "Marlow", "Everly",
)  # fmt: skip
FEATURES = (
    "built to last", "backed by a two-year warranty", "easy to clean", "quiet in use",
    "energy efficient", "shipped in recycled packaging", "tested by our own team",
    "light enough to carry anywhere", "designed for everyday use", "with replaceable parts",
)  # fmt: skip
OUT_OF_STOCK_SHARE = 0.08


class SeedRefusedError(PermissionDeniedError):
    code = "seed.refused"
    title = "Seeding refused"


@dataclass(frozen=True)
class SeedReport:
    categories_created: int
    products_created: int
    products_total: int
    users_created: int
    organizations_created: int = 0


async def seed_demo(
    settings: ShopSettings, *, products: int = DEFAULT_PRODUCTS, rng_seed: int = DEFAULT_RNG_SEED
) -> SeedReport:
    """Seed `settings.database_url` in one transaction. Refused outside development and test:
    demo users with a published password must never reach a production database."""
    if settings.environment not in SEED_ENVIRONMENTS:
        raise SeedRefusedError(
            f"demo data is only seeded in development ({settings.env_name('environment')} is "
            f"{settings.environment.value})"
        )
    database = Database.from_url(settings.database_url, settings.db, name=settings.service_name)
    try:
        async with database.transaction() as session:
            categories_created, category_ids = await _seed_categories(session)
            existing = await _count_products(session)
            created = await _seed_products(session, category_ids, existing, products, rng_seed)
            users_created = await _seed_users(session, settings)
            organizations_created = await _seed_organization(session)
    finally:
        await database.dispose()
    return SeedReport(
        categories_created=categories_created,
        products_created=created,
        products_total=existing + created,
        users_created=users_created,
        organizations_created=organizations_created,
    )


async def _seed_categories(session: AsyncSession) -> tuple[int, dict[str, int]]:
    table = table_of(Category)
    existing = set((await session.execute(select(table.c.name))).scalars())
    missing = [
        {"name": spec.name, "description": spec.description}
        for spec in CATEGORIES
        if spec.name not in existing
    ]
    if missing:
        await session.execute(insert(table), missing)
    rows = await session.execute(select(table.c.name, table.c.id))
    return len(missing), {row.name: row.id for row in rows}


async def _count_products(session: AsyncSession) -> int:
    table = table_of(Product)
    return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def _seed_products(
    session: AsyncSession, category_ids: dict[str, int], existing: int, wanted: int, rng_seed: int
) -> int:
    if existing >= wanted:
        return 0
    table = table_of(Product)
    rows = demo_products(category_ids, wanted, rng_seed)
    batch: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if index < existing:  # drawn anyway, so the random sequence stays the same
            continue
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            await session.execute(insert(table), batch)
            batch = []
    if batch:
        await session.execute(insert(table), batch)
    return wanted - existing


def demo_products(
    category_ids: dict[str, int], count: int, rng_seed: int = DEFAULT_RNG_SEED
) -> Iterator[dict[str, Any]]:
    """Product rows 0..count-1; row i depends only on the seed and i."""
    rng = random.Random(rng_seed)  # noqa: S311  # demo data, not secrets: reproducibility wanted
    for _ in range(count):
        spec = rng.choice(CATEGORIES)
        adjective, brand, noun = rng.choice(ADJECTIVES), rng.choice(BRANDS), rng.choice(spec.nouns)
        model = f"{rng.choice('AEKSXZ')}{rng.randint(1, 9)}{rng.choice(('00', '10', '50', '90'))}"
        first, second = rng.sample(FEATURES, 2)
        in_stock = rng.random() >= OUT_OF_STOCK_SHARE
        yield {
            "category_id": category_ids[spec.name],
            "name": f"{adjective} {brand} {noun} {model}",
            "description": f"{adjective} {noun.lower()} from {brand}, {first} and {second}.",
            "price_minor": rng.randint(spec.min_price, spec.max_price) * 100 + 99,
            "stock": rng.randint(1, 250) if in_stock else 0,
        }


async def _seed_users(session: AsyncSession, settings: ShopSettings) -> int:
    table = table_of(User)
    emails = [email for email, _ in DEMO_USERS]
    existing = set(
        (await session.execute(select(table.c.email).where(table.c.email.in_(emails)))).scalars()
    )
    missing = [(email, role) for email, role in DEMO_USERS if email not in existing]
    if not missing:
        return 0  # and no argon2 work: a re-seed on every `make run` stays instant
    hasher = PasswordHasher(settings.auth)
    password = settings.demo_password.get_secret_value()
    rows = [
        {
            "email": email,
            # Hashed once per user: a shared salt would show that the two passwords are equal.
            "password_hash": await hasher.hash(password),
            "full_name": f"Demo {role.value.title()}",
            "role": role.value,
        }
        for email, role in missing
    ]
    await session.execute(insert(table), rows)
    return len(missing)


async def _seed_organization(session: AsyncSession) -> int:
    """The demo organization, owned by the demo customer (kept if it exists by name)."""
    organizations, users = table_of(Organization), table_of(User)
    found = await session.execute(
        select(organizations.c.id).where(organizations.c.name == DEMO_ORGANIZATION)
    )
    if found.first() is not None:
        return 0
    owner = await session.scalar(select(users.c.id).where(users.c.email == DEMO_ORGANIZATION_OWNER))
    if owner is None:
        return 0
    created = await session.execute(
        insert(organizations).values(name=DEMO_ORGANIZATION).returning(organizations.c.id)
    )
    organization_id = created.scalar_one()
    add_member = scoped(insert(table_of(Membership)), table_of(Membership))
    params = {"tenant_id": organization_id, "user_id": owner, "role": OrgRole.OWNER.value}
    await session.execute(add_member, params)
    return 1
