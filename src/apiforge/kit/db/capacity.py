"""How many connections a PostgreSQL server takes, read live: `max_connections`, the slots it
reserves, and who is connected now. Not for: sizing pools (`apiforge check` does that
arithmetic) or SQLite, which has no connection limit to read."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# `current_setting(name, true)` gives NULL for a setting this server version lacks
# (`reserved_connections` arrived in PostgreSQL 16).
_SETTING = text("SELECT current_setting(:name, true)")
# Client backends other than this one, split into the application's own and everybody else's.
_CONNECTED = text(
    "SELECT count(*) FILTER (WHERE application_name = :application),"
    " count(*) FILTER (WHERE application_name IS DISTINCT FROM :application)"
    " FROM pg_stat_activity"
    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    superuser_reserved: int
    # PostgreSQL 16+: slots kept for roles with pg_use_reserved_connections; 0 before.
    reserved: int
    # Connected now, this reader's own connection excluded.
    application_connections: int
    other_connections: int

    @property
    def for_applications(self) -> int:
        """The slots an ordinary role can use: max_connections less both reservations."""
        return self.max_connections - self.superuser_reserved - self.reserved


async def _setting(connection: AsyncConnection, name: str) -> int:
    value = (await connection.execute(_SETTING, {"name": name})).scalar_one()
    return int(value) if value is not None else 0


async def read_connection_limits(
    connection: AsyncConnection, *, application_name: str = "apiforge"
) -> ConnectionLimits:
    """`application_name` tells the service's own connections (the kit's engine sets it) from
    other clients'."""
    row = (await connection.execute(_CONNECTED, {"application": application_name})).one()
    return ConnectionLimits(
        max_connections=await _setting(connection, "max_connections"),
        superuser_reserved=await _setting(connection, "superuser_reserved_connections"),
        reserved=await _setting(connection, "reserved_connections"),
        application_connections=int(row[0]),
        other_connections=int(row[1]),
    )


_BYPASSES_RLS = text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")


async def role_bypasses_rls(connection: AsyncConnection) -> bool:
    """Whether the connected role skips row-level security (a superuser, or BYPASSRLS)."""
    return bool((await connection.execute(_BYPASSES_RLS)).scalar())
