"""Builds the async engine for SQLite (embedded default) or PostgreSQL (asyncpg) from settings.

SQLite gets WAL, foreign keys, a busy timeout and explicit BEGIN (DEFERRED for reads,
IMMEDIATE for writes, so a writer takes the lock up front instead of failing to upgrade a
read lock half way through). PostgreSQL gets a sized pool, server-side statement and lock
timeouts, optionally a client-side ceiling for a server that cannot answer at all, and dead
connections recognised as such (kit.db.disconnects).
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool

from apiforge.kit.db.disconnects import watch_disconnects
from apiforge.kit.db.pool import TimedQueuePool
from apiforge.kit.settings import DatabaseSettings, is_sqlite_url

# Execution option read by the SQLite BEGIN hook; only these two values are ever emitted.
BEGIN_MODE_OPTION = "apiforge_sqlite_begin"
_BEGIN_STATEMENTS = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def create_engine(
    url: str, settings: DatabaseSettings, *, application_name: str = "apiforge"
) -> AsyncEngine:
    """The pooled async engine for `url` (SQLite or PostgreSQL, as checked by the settings).
    `application_name` names the connections in `pg_stat_activity` (the service's name)."""
    if is_sqlite_url(url):
        return _sqlite_engine(url, settings)
    return _postgres_engine(url, settings, application_name)


def pool_class_for(url: str) -> type[Pool]:
    """The timed pool wherever the dialect would use the async queue pool; an in-memory SQLite
    database keeps its StaticPool (one shared connection: nothing to wait for)."""
    parsed = make_url(url)
    # A classmethod of DefaultDialect, which every dialect class derives from (not in the
    # Dialect interface the stubs declare).
    default = parsed.get_dialect().get_pool_class(parsed)  # type: ignore[attr-defined]
    return TimedQueuePool if default is AsyncAdaptedQueuePool else default


def _postgres_engine(url: str, settings: DatabaseSettings, application_name: str) -> AsyncEngine:
    server_settings = {"application_name": application_name, "jit": "off"}
    connect_args: dict[str, Any] = {"timeout": settings.pool_timeout}
    if settings.statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    if settings.client_timeout_seconds:
        # asyncpg's: a statement not answered by then is a TimeoutError (kit.db.disconnects).
        connect_args["command_timeout"] = settings.client_timeout_seconds
    if settings.lock_timeout_ms:
        server_settings["lock_timeout"] = str(settings.lock_timeout_ms)
    connect_args["server_settings"] = server_settings
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        echo=settings.echo,
        connect_args=connect_args,
        poolclass=pool_class_for(url),
    )
    watch_disconnects(engine.sync_engine)
    return engine


def _sqlite_engine(url: str, settings: DatabaseSettings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        echo=settings.echo,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        poolclass=pool_class_for(url),
    )
    busy_timeout = int(settings.sqlite_busy_timeout_ms)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's BEGIN below is then the only one, which
        # also makes SAVEPOINT work (pysqlite's own transaction handling breaks it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={busy_timeout}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE_OPTION, "DEFERRED")
        conn.exec_driver_sql(_BEGIN_STATEMENTS[mode])

    return engine


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, each statement its own transaction on PostgreSQL. SQLite keeps its
    explicit DEFERRED transactions: it is in process, so BEGIN and COMMIT cost no round trip."""
    if is_sqlite_url(str(engine.url)):
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with SQLite transactions begun IMMEDIATE (a no-op on PostgreSQL)."""
    return engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
