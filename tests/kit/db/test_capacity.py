"""The connection limits read live from PostgreSQL match what the server says, and the
service's own connections (application_name apiforge) are told from other clients'."""

from sqlalchemy import text

from apiforge.kit.db.capacity import read_connection_limits
from apiforge.kit.db.engine import create_engine
from apiforge.kit.settings import DatabaseSettings


async def test_reads_the_servers_limits_and_who_is_connected(kit_postgres_url: str) -> None:
    engine = create_engine(kit_postgres_url, DatabaseSettings(pool_size=2))
    try:
        async with engine.connect() as reader, engine.connect() as service:
            before = await read_connection_limits(reader)
            # The same server seen by another application's connection.
            await service.execute(text("SET application_name = 'someone-else'"))
            # pg_stat_activity is a snapshot per transaction: look again in a new one.
            await reader.commit()
            after = await read_connection_limits(reader)
            shown = {
                name: int((await reader.execute(text(f"SHOW {name}"))).scalar_one())
                for name in ("max_connections", "superuser_reserved_connections")
            }
    finally:
        await engine.dispose()
    assert before.max_connections == shown["max_connections"]
    assert before.superuser_reserved == shown["superuser_reserved_connections"]
    assert before.reserved == 0  # PostgreSQL 15 here: no reserved_connections setting
    assert before.for_applications == shown["max_connections"] - before.superuser_reserved
    # The reader's own connection is left out; the other one moved from "apiforge" to "other".
    assert after.application_connections == before.application_connections - 1
    assert after.other_connections == before.other_connections + 1
