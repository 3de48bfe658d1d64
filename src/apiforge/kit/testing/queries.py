"""Counting the SQL statements an engine sends, for tests that hold a request to a fixed number
of queries (no N+1). Not for: production metrics."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class QueryCounter:
    """The statements sent while a `count_queries` block ran."""

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
    """Counts every SQL statement the engine sends while the block runs:
    `with count_queries(database.engine) as queries: ...; assert queries.count == 2`."""
    counter = QueryCounter()

    def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", _before)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _before)
