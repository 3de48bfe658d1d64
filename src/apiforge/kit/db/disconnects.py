"""Lost PostgreSQL connections made into disconnects SQLAlchemy understands, so that they are
replaced or answered 503, never 500. Not for: choosing the answer (kit.db.failures).

A pooled connection the server has already closed (a restart, an idle-session timeout) is
replaced at checkout, before any statement of the unit of work runs; a raw socket error or
client-side timeout from the driver in the middle of a statement becomes a DBAPI error with
the connection invalidated.

Why not `pool_pre_ping`: it costs round trips on every checkout. The driver already knows when
the server closed the socket (the restart's goodbye arrives while the connection sits idle), so
asking it is free; a connection that dies while checked out fails its statement, and a
statement already sent is never retried here (only its caller knows if that is safe).
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def watch_disconnects(engine: Engine) -> None:
    """Installs both hooks on a PostgreSQL (asyncpg) engine; the pool keeps them when the
    engine is disposed and its pool recreated."""
    event.listen(engine, "checkout", _replace_closed)
    event.listen(engine, "handle_error", _socket_error_is_a_disconnect)


def _replace_closed(
    _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        # The pool invalidates this one connection and opens a new one in its place.
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


def _socket_error_is_a_disconnect(context: ExceptionContext) -> BaseException | None:
    """asyncpg translates its own errors into DBAPI ones, but a socket error or its
    `command_timeout` reaches SQLAlchemy raw (an `OSError`: `ConnectionResetError`,
    `TimeoutError`), which it neither wraps nor treats as a disconnect: the connection would
    go back to the pool broken and the request end in a 500."""
    original = context.original_exception
    if context.sqlalchemy_exception is not None or not isinstance(original, OSError):
        return None
    context.is_disconnect = True
    return sa_exc.OperationalError(
        context.statement, context.parameters, original, connection_invalidated=True
    )
