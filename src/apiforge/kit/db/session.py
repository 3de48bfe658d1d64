"""The request's unit of work, declared by the route: `WriteSession` (a transaction committed
**before** the response is sent) or `ReadSession` (reads only, no transaction on PostgreSQL).
Not for: use outside HTTP (use `Database.transaction`).

FastAPI runs a yield dependency's exit code after the response unless the dependency is
declared with `scope="function"`; committing after a 201 went out would turn a failed commit
into a lost write reported as success. Both kinds close before the response, so the
connection is back in the pool while the body is sent.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.unit_of_work import unit_of_work
from apiforge.kit.state import app_state


async def write_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = app_state(request.app).database
    async with database.write_session() as session, unit_of_work(session, database.stats):
        yield session


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with app_state(request.app).database.read_session() as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]
WriteSession.__doc__ = """The request's write unit of work, for a route that changes data: one
transaction (BEGIN IMMEDIATE on SQLite), committed before the response is sent, rolled back
when the route raises (unless `commit_on_error(session)` was called and the error is an
`AppError`). Services `flush()`, never `commit()`; `after_commit(session, callback)` runs
work once the commit succeeded."""

ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]
ReadSession.__doc__ = """The request's read unit of work, for a route that only reads: no
transaction on PostgreSQL (each statement commits by itself, saving two round trips on a
one-query read), a read transaction on SQLite. INSERT, UPDATE, DELETE and flushes raise
`ReadOnlySessionError`: a route that writes declares `WriteSession`."""
