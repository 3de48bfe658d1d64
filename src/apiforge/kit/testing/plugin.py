"""pytest plugin: session fixtures for real PostgreSQL and Redis, and a SQL statement counter.

Each pytest process (each xdist worker) gets its own PostgreSQL database and Redis logical
database, so runs never see each other's data.
"""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from apiforge.kit.testing.services import (
    postgres_admin_url,
    redis_base_url,
    require_tcp,
)


def worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    url = postgres_admin_url()
    require_tcp("PostgreSQL", url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    base = redis_base_url()
    require_tcp("Redis", base)
    # Logical databases 1..15 by worker; 0 is left to whatever else uses the server.
    return f"{base.rstrip('/')}/{1 + worker_index() % 15}"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, socket_timeout=2)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def data_statements(self) -> list[str]:
        """Statements other than transaction control (BEGIN, SAVEPOINT, RELEASE, ...)."""
        skip = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
        return [s for s in self.statements if not s.lstrip().upper().startswith(skip)]


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[QueryCounter]:
    """Counts every SQL statement the engine sends while the block runs."""
    counter = QueryCounter()

    def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", _before)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _before)
