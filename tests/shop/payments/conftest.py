import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.models import Category
from tests.factories import create_category


@pytest.fixture
async def category(session: AsyncSession) -> Category:
    return await create_category(session, name="Payments test category")
