"""The async engine's connection pool, timing each checkout for the pool-wait metric. Not for:
sizing the pool (settings) or exporting the figure (kit.metrics reads `wait_observer`).

Why a subclass and not pool events: SQLAlchemy fires `checkout` only after a connection was
obtained and has no "checkout requested" event, so events cannot see the wait. Why `connect()`
and not `_do_get()`: `_do_get` calls itself again after some races, so timing it would count one
checkout several times; `connect()` is the one entry point for every checkout. The time includes
opening a new connection when the pool has none idle: that is waiting, too, from the request's
point of view.
"""

from collections.abc import Callable
from time import perf_counter

from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

WaitObserver = Callable[[float], None]


class TimedQueuePool(AsyncAdaptedQueuePool):
    """`AsyncAdaptedQueuePool` that hands the seconds each checkout took to `wait_observer`
    (set by whoever exports it; None: not timed). A checkout that fails (pool timeout, database
    down) is timed too: its wait is the most interesting one."""

    wait_observer: WaitObserver | None = None
    # SQLAlchemy names a pool's logger after its class's module: without this it would log under
    # "apiforge" (INFO, our handler) instead of "sqlalchemy.pool" (WARNING unless echo_pool).
    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"

    def connect(self) -> PoolProxiedConnection:
        observer = self.wait_observer
        if observer is None:
            return self._connect()
        start = perf_counter()
        try:
            return self._connect()
        finally:
            observer(perf_counter() - start)

    def _connect(self) -> PoolProxiedConnection:
        try:
            return super().connect()
        except OSError as exc:
            # asyncpg's refused or timed-out connect reaches here as a bare OSError (SQLAlchemy
            # wraps only DBAPI errors): give it the type every other database outage has, so
            # the error handlers answer 503 instead of an unexplained 500.
            raise OperationalError("connect", None, exc) from exc

    def recreate(self) -> "TimedQueuePool":
        # engine.dispose() replaces the pool with a copy: keep exporting from the new one.
        pool = super().recreate()
        if not isinstance(pool, TimedQueuePool):  # pragma: no cover  # recreate keeps the class
            raise TypeError(f"unexpected pool class {type(pool).__name__}")
        pool.wait_observer = self.wait_observer
        return pool
