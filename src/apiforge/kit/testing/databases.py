"""Test databases: a migrated database of a test run's own (a SQLite file or a PostgreSQL
database created on the admin URL), per-test rollback by running every session of the app
inside the test's transaction, and emptying the tables for tests on committed data. Not for:
production code."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from apiforge.kit.db.database import Database, SessionFactories
from apiforge.kit.db.migrations import Migrations
from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database

KEEP_TABLES = frozenset({"alembic_version"})


@asynccontextmanager
async def fresh_database(
    kind: str, *, directory: Path, name: str, postgres_admin: str | None = None
) -> AsyncIterator[str]:
    """An empty database of its own, dropped afterwards: "sqlite" (the file
    `directory/name.db`) or "postgres" (the database `name`, created with `postgres_admin`).
    Yields its URL."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / f'{name}.db'}"
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}: sqlite or postgres")
    if postgres_admin is None:
        raise ValueError("PostgreSQL needs the admin URL")
    url = await create_postgres_database(postgres_admin, name)
    try:
        yield url
    finally:
        await drop_postgres_database(postgres_admin, name)


@asynccontextmanager
async def migrated_database(
    kind: str,
    migrations: Migrations,
    *,
    directory: Path,
    name: str,
    postgres_admin: str | None = None,
) -> AsyncIterator[str]:
    """`fresh_database`, upgraded to `migrations`' head. Yields its URL."""
    async with fresh_database(
        kind, directory=directory, name=name, postgres_admin=postgres_admin
    ) as url:
        await migrations.upgrade(url)
        yield url


@contextmanager
def sessions_inside(database: Database, connection: AsyncConnection) -> Iterator[None]:
    """While the block runs, every session `database` hands out (the app's requests
    included) works inside `connection`'s open transaction, each commit a savepoint's
    release, so the test rolls everything back at the end."""
    previous = database.sessions
    database.sessions = SessionFactories.inside(connection)
    try:
        yield
    finally:
        database.sessions = previous


def _tables(connection: Connection) -> list[str]:
    names = inspect(connection).get_table_names()
    return [name for name in names if name not in KEEP_TABLES]


async def empty_tables(database: Database) -> None:
    """Deletes every row of every table but Alembic's, for tests on committed data."""
    async with database.engine.begin() as conn:
        names = await conn.run_sync(_tables)
        if not names:
            return
        if database.is_sqlite:
            # Foreign keys would dictate an order; off for this connection's deletes only.
            await conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for name in names:
                await conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608  # names from the schema
        else:
            quoted = ", ".join(f'"{name}"' for name in names)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
