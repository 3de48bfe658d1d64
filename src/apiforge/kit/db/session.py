"""The request's unit of work: one session per request, committed **before** the response is
sent. Not for: use outside HTTP (use `Database.transaction`).

FastAPI runs a yield dependency's exit code after the response unless the dependency is
declared with `scope="function"`; committing after a 201 went out would turn a failed commit
into a lost write reported as success.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.errors import AppError
from apiforge.kit.lifespan import app_state

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AFTER_COMMIT_KEY = "apiforge_after_commit"


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = app_state(request.app).database
    if request.method in _READ_METHODS:
        session_factory = database.autocommit_session
    else:
        session_factory = database.session
    async with session_factory() as session:
        try:
            yield session
            await session.commit()
        except AppError as exc:
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
    for callback in session.info.pop(AFTER_COMMIT_KEY, ()):
        await callback()


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once this request's transaction has committed (cache invalidation, jobs);
    a rollback discards it."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]
