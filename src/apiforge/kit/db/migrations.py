"""Runs a service's Alembic migrations programmatically (no alembic.ini needed), on SQLite or
PostgreSQL. Not for: writing migrations (use `alembic revision` with the service's env)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from apiforge.kit.db.engine import create_engine
from apiforge.kit.settings import DatabaseSettings


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    engine = create_engine(database_url, DatabaseSettings(pool_size=1))
    try:
        async with engine.begin() as conn:
            await run_upgrade(conn, script_location, revision)
    finally:
        await engine.dispose()


async def run_upgrade(conn: AsyncConnection, script_location: Path, revision: str = "head") -> None:
    """Upgrade through an open connection (its transaction), e.g. a test database's."""
    config = alembic_config(script_location, str(conn.engine.url))

    def _run(sync_conn: object) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    await conn.run_sync(_run)


def upgrade_sync(script_location: Path, database_url: str, revision: str = "head") -> None:
    asyncio.run(upgrade(script_location, database_url, revision))
