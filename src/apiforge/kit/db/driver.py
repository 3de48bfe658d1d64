"""Statements the driver runs itself on a session's pooled connection, for the hottest reads:
where SQLAlchemy's execution (compiled-cache lookup, execution context, result rows) costs
more than the database does, e.g. one row of JSON that PostgreSQL already built. Not for:
anything that can afford the session (the tenant guard and ORM events do not see these).

PostgreSQL (asyncpg) only: the SQL is plain text with `$n` parameters, prepared once per
connection by asyncpg's statement cache. It runs on the session's own connection, so inside
its transaction (a tenant bound with `bind_tenant` applies; a test's savepoint sees it) and
under the connection's timeouts; a failure is raised as SQLAlchemy would raise it, so the
kit's database-failure answers (409/503) and disconnect handling apply unchanged. While
anything listens to the engine's statements (tracing's SQL spans, a test's `count_queries`),
the statement goes through SQLAlchemy instead, so that they still see every one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    """Whether `session` talks to PostgreSQL, where driver queries run (elsewhere a repository
    takes its portable path)."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True, slots=True)
class DriverQuery:
    """One PostgreSQL statement, run by asyncpg on a session's connection:
    `await QUERY.value(session, product_id)` is the first column of the first row, or None
    without a row; `row` is that row. Build once, at import, like the repositories'
    statements."""

    sql: str

    async def value(self, session: AsyncSession, *params: object) -> Any:
        row = await self.row(session, *params)
        return None if row is None else row[0]

    async def row(self, session: AsyncSession, *params: object) -> Sequence[Any] | None:
        """The first row (its columns by position), or None without one."""
        connection = await session.connection()
        watched = connection.sync_connection
        if watched is not None and watched.dispatch.before_cursor_execute:
            return (await connection.exec_driver_sql(self.sql, params)).first()
        try:
            driver = await _in_transaction(connection)
            row: Sequence[Any] | None = await driver.fetchrow(self.sql, *params)
        except Exception as exc:
            raise await _as_sqlalchemy_error(connection, self.sql, params, exc) from exc
        return row

    async def rows(self, session: AsyncSession, *params: object) -> Sequence[Sequence[Any]]:
        """Every row (columns by position), e.g. of an `UPDATE ... RETURNING`; a statement
        that writes runs inside the session's transaction like any other."""
        connection = await session.connection()
        watched = connection.sync_connection
        if watched is not None and watched.dispatch.before_cursor_execute:
            return (await connection.exec_driver_sql(self.sql, params)).all()
        try:
            driver = await _in_transaction(connection)
            rows: Sequence[Sequence[Any]] = await driver.fetch(self.sql, *params)
        except Exception as exc:
            raise await _as_sqlalchemy_error(connection, self.sql, params, exc) from exc
        return rows


def money_text_sql(minor: str) -> str:
    """PostgreSQL SQL rendering the integer SQL expression `minor` (minor units, >= 0) as the
    wire's decimal text, as `format_minor` does (1250 -> '12.50'), for JSON that PostgreSQL
    builds (`json_build_object`). Negative amounts are not rendered correctly: use it on
    columns that cannot hold them."""
    return f"(({minor}) / 100)::text || '.' || lpad((({minor}) % 100)::text, 2, '0')"


def utc_text_sql(timestamp: str) -> str:
    """PostgreSQL SQL rendering the timestamptz SQL expression `timestamp` as the wire's text,
    as pydantic and orjson (`OPT_UTC_Z`) write it: UTC with a `Z`, microseconds only when
    there are any; NULL stays NULL (JSON null)."""
    return (
        f"to_char(({timestamp}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"extract(microseconds FROM ({timestamp}))::bigint % 1000000 = 0 THEN '' ELSE "
        f"to_char(({timestamp}) AT TIME ZONE 'UTC', '.US') END || 'Z'"
    )


async def _in_transaction(connection: AsyncConnection) -> Any:
    """The asyncpg connection under `connection`, inside the transaction SQLAlchemy has begun
    on it. SQLAlchemy's asyncpg adapter sends BEGIN only before its own first statement, so a
    driver query that comes first would otherwise run in autocommit: a write committed at
    once, whatever the unit of work does later (a killed worker's order taking its stock).
    The adapter's own start is used (a no-op on an AUTOCOMMIT read session), so SQLAlchemy
    commits or rolls back the same transaction."""
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection  # SQLAlchemy's AsyncAdapt_asyncpg_connection
    if adapter._transaction is None:
        await adapter._start_transaction()
    return raw.driver_connection


async def _as_sqlalchemy_error(
    connection: AsyncConnection, sql: str, params: tuple[object, ...], exc: Exception
) -> Exception:
    """What SQLAlchemy (with kit.db.disconnects) makes of the same driver error: a server
    error keeps its SQLSTATE (`orig`); a lost socket, a closed connection or the client-side
    timeout invalidates the connection, so the pool replaces it instead of lending it again."""
    # Imported here: asyncpg is the `postgres` extra, and the kit imports without it.
    from asyncpg.exceptions import InterfaceError, PostgresConnectionError, PostgresError

    if isinstance(exc.__cause__, OSError | InterfaceError | PostgresError):
        # A BEGIN that failed comes translated by SQLAlchemy's adapter, from the driver's.
        exc = exc.__cause__
    if isinstance(exc, OSError | InterfaceError | PostgresConnectionError):
        await connection.invalidate(exc)
        return sa_exc.OperationalError(sql, params, exc, connection_invalidated=True)
    if isinstance(exc, PostgresError):
        return sa_exc.DBAPIError(sql, params, exc)
    return exc
