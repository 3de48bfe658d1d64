"""A database of a fixture's own, migrated to the shop's schema: a SQLite file in a directory,
or a PostgreSQL database created on the admin URL and dropped afterwards."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from apiforge.kit.db.migrations import upgrade
from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database
from apiforge.shop.migrations import MIGRATIONS_DIR


@asynccontextmanager
async def migrated_database(
    kind: str, *, directory: Path, name: str, postgres_admin: str | None = None
) -> AsyncIterator[str]:
    """`kind` is "sqlite" (the file `directory/name.db`) or "postgres" (the database `name`,
    which needs `postgres_admin`). Yields the URL."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / f'{name}.db'}"
        await upgrade(MIGRATIONS_DIR, url)
        yield url
        return
    if postgres_admin is None:
        raise ValueError("PostgreSQL needs the admin URL")
    url = await create_postgres_database(postgres_admin, name)
    await upgrade(MIGRATIONS_DIR, url)
    yield url
    await drop_postgres_database(postgres_admin, name)
