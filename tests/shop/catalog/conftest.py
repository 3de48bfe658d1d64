"""Catalog test data: a mixed catalogue for pagination, and an order line pointing at a product."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category, Product
from apiforge.shop.orders.models import Order, OrderLine
from tests.factories import UserWithPassword, create_category

# Names sort the same under any collation (lowercase ASCII letters only), so the expected
# order can be computed in Python on both databases.
WORDS = ["anvil", "bolt", "cable", "drill", "epoxy", "file", "gauge", "hinge", "clamp"]
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Catalogue:
    laptops: Category
    tools: Category
    live: list[Product]  # listed
    archived: list[Product]  # never listed


async def build_catalogue(session: AsyncSession, count: int = 45) -> Catalogue:
    """`count` live products with repeated prices, names and creation times (so every sort
    needs its id tie-breaker), split over two categories, some out of stock, plus archived
    products that must never show."""
    laptops = await create_category(session, name="Laptops")
    tools = await create_category(session, name="Tools")
    live = [
        Product(
            category_id=(laptops if i % 3 else tools).id,
            name=WORDS[i % len(WORDS)],
            description=f"item number {i}",
            price_minor=500 * (i % 5),
            stock=0 if i % 4 == 0 else i,
            created_at=BASE_TIME + timedelta(minutes=i % 6),
        )
        for i in range(count)
    ]
    archived = [
        Product(
            category_id=laptops.id,
            name="anvil",
            description="gone",
            price_minor=500,
            stock=3,
            is_archived=True,
            created_at=BASE_TIME,
        )
        for _ in range(3)
    ]
    session.add_all(live + archived)
    await session.flush()
    return Catalogue(laptops, tools, live, archived)


@pytest.fixture
async def catalogue(session: AsyncSession) -> Catalogue:
    return await build_catalogue(session)


async def order_product(session: AsyncSession, user: UserWithPassword, product: Product) -> None:
    """An order with one line for `product`, written directly with the ORM models."""
    order = Order(user_id=user.id, total_minor=product.price_minor)
    session.add(order)
    await session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            product_id=product.id,
            product_name=product.name,
            quantity=1,
            unit_price_minor=product.price_minor,
        )
    )
    await session.flush()
