import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_category


async def test_health_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


async def test_rolled_back_between_tests_a(session: AsyncSession) -> None:
    category = await create_category(session, name="Only once")
    assert category.id >= 1


async def test_rolled_back_between_tests_b(session: AsyncSession) -> None:
    await create_category(session, name="Only once")  # would violate the unique name otherwise


@pytest.mark.committed
async def test_committed_data(session: AsyncSession) -> None:
    await create_category(session, name="Committed")
    await session.commit()
