from sqlalchemy.ext.asyncio import AsyncSession

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

    await service.take_stock({first.id: 2, second.id: 3})
    await service.return_stock({first.id: 1})
    after = await service.lock_for_order([first.id, second.id])
    assert (after[first.id].stock, after[second.id].stock) == (4, 0)
