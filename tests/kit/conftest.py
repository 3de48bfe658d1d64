"""Kit fixtures: a throwaway database on each backend (a SQLite file, a scratch PostgreSQL
database) for tests that need real SQL but none of the shop's tables."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}"


@pytest.fixture(scope="session")
async def kit_postgres_url(postgres_admin: str) -> AsyncIterator[str]:
    name = f"apiforge_kit_{os.getpid()}"
    url = await create_postgres_database(postgres_admin, name)
    yield url
    await drop_postgres_database(postgres_admin, name)


@pytest.fixture(params=["sqlite", "postgres"])
def kit_database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database with no tables: a fresh SQLite file, or the shared scratch PostgreSQL
    database (tests there create their own uniquely named tables and drop them)."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("kit_postgres_url")
    return url
