import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import table_of
from apiforge.shop.catalog.models import Product
from apiforge.shop.catalog.service import CatalogService
from tests.factories import create_category, create_product


async def test_lock_take_and_return_stock(session: AsyncSession) -> None:
    category = await create_category(session)
    first = await create_product(session, category=category, name="A", stock=5)
    second = await create_product(session, category=category, name="B", stock=3)
    archived = await create_product(session, category=category, name="C", is_archived=True)
    service = CatalogService(session)

    locked = await service.lock_for_order([second.id, first.id, archived.id, 999_999])
    assert sorted(locked) == [first.id, second.id]

    taken = await service.take_for_order({second.id: 3, first.id: 2})
    assert [(line.id, line.stock) for line in taken.values()] == [(first.id, 5), (second.id, 3)]
    await service.return_stock({first.id: 1})
    after = await service.lock_for_order([first.id, second.id])
    assert (after[first.id].stock, after[second.id].stock) == (4, 0)


async def test_adjust_stock_handles_ids_past_32_bits(session: AsyncSession) -> None:
    category = await create_category(session)
    product = await create_product(session, category=category, name="Big id")
    big_id = 2**40
    await session.execute(
        update(table_of(Product)).where(table_of(Product).c.id == product.id).values(id=big_id)
    )
    service = CatalogService(session)
    await service.take_for_order({big_id: 1})
    assert (await service.lock_for_order([big_id]))[big_id].stock == product.stock - 1


@pytest.mark.parametrize(
    "extra", [{"missing": 1}, {"archived": 1}, {"short": 4}], ids=["missing", "archived", "short"]
)
async def test_an_order_short_of_anything_takes_nothing(
    session: AsyncSession, extra: dict[str, int]
) -> None:
    category = await create_category(session)
    first = await create_product(session, category=category, name="A", stock=5)
    short = await create_product(session, category=category, name="B", stock=3)
    archived = await create_product(session, category=category, name="C", is_archived=True)
    ids = {"missing": 999_999, "archived": archived.id, "short": short.id}
    service = CatalogService(session)

    locked = await service.take_for_order({first.id: 2, **{ids[k]: q for k, q in extra.items()}})

    assert locked[first.id].stock == 5
    after = await service.lock_for_order([first.id, short.id])
    assert (after[first.id].stock, after[short.id].stock) == (5, 3)
