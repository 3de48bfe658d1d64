"""Which database errors are not bugs: a conflict the client may retry (409: a deadlock, a
serialization failure, a row locked past `lock_timeout`) and an outage (no connection, a
timeout, a server shutting down: 503 with `Retry-After`). Everything else (a missing table, a
syntax error) is a bug, answered 500 and logged with the driver's own message. Not for:
rendering the answer (kit.problems).

Why a lock timeout is a 409 and not a 503: the database is up and answering; one row is held by
another transaction (a long admin edit, a stuck job), so only requests for that row fail while
the rest of the service works. It is the deadlock's answer (another change holds what this one
needs; retry), and it does not count against the service's availability as an outage would.
"""

from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

# PostgreSQL SQLSTATE classes and codes that mean "the database is not available right now".
_PG_OUTAGE_PREFIXES = ("08", "53", "57P")  # connection, insufficient resources, shutdown
_PG_TIMEOUTS = frozenset({"57014"})  # statement timeout
_PG_RETRY = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
_PG_LOCKED = "55P03"  # lock not available: lock_timeout, or NOWAIT
# SQLite primary result codes: BUSY, LOCKED, IOERR, FULL, CANTOPEN.
_SQLITE_OUTAGES = frozenset({5, 6, 10, 13, 14})


@dataclass(frozen=True, slots=True)
class DatabaseFailure:
    status: int
    code: str
    detail: str


CONFLICT = DatabaseFailure(409, "db.conflict", "The change conflicts with another; retry.")
LOCKED = DatabaseFailure(
    409, "db.conflict", "What this change needs is locked by another one; retry shortly."
)
POOL_EXHAUSTED = DatabaseFailure(
    503, "db.unavailable", "No database connection was free in time; retry shortly."
)
UNREACHABLE = DatabaseFailure(
    503, "db.unavailable", "The database is not reachable; retry shortly."
)
TIMED_OUT = DatabaseFailure(503, "db.unavailable", "The database did not answer in time.")


def classify(exc: Exception) -> DatabaseFailure | None:
    """The answer for a database error that is not a bug, or None for one that is."""
    if isinstance(exc, sa_exc.TimeoutError):  # the pool's checkout timeout
        return POOL_EXHAUSTED
    if isinstance(exc, sa_exc.IntegrityError):  # a constraint only the commit could check
        return CONFLICT
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    # A client-side timeout (kit.db.disconnects) or a connect that timed out (kit.db.pool).
    if isinstance(exc.orig, TimeoutError):
        return TIMED_OUT
    # SQLAlchemy marks a lost connection (the dialect, or kit.db.disconnects, recognised a
    # disconnect); the pool wraps a refused connect's OSError (kit.db.pool).
    if exc.connection_invalidated or isinstance(exc.orig, OSError):
        return UNREACHABLE
    return _by_driver_code(exc.orig)


def _by_driver_code(orig: BaseException | None) -> DatabaseFailure | None:
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate in _PG_TIMEOUTS:
            return TIMED_OUT
        if sqlstate in _PG_RETRY:
            return CONFLICT
        if sqlstate == _PG_LOCKED:
            return LOCKED
        return UNREACHABLE if sqlstate.startswith(_PG_OUTAGE_PREFIXES) else None
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return TIMED_OUT if sqlite_code & 0xFF in _SQLITE_OUTAGES else None
    return None


def driver_message(exc: Exception) -> str:
    """The driver's own one-line message (e.g. `no such table: notes`), for the log."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__
