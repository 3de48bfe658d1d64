"""Alembic environment: runs on the connection the kit hands over (apiforge db upgrade, tests),
or opens its own async engine when run by the `alembic` command."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from apiforge.kit.db.engine import create_engine
from apiforge.kit.settings import DatabaseSettings
from apiforge.shop.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs go through batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url, DatabaseSettings(pool_size=1))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async(context.config.get_main_option("sqlalchemy.url") or ""))
