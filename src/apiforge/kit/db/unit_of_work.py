"""The rules of a unit of work, in one place for requests, the CLI and jobs: commit at the end,
roll back on any error (unless the session was marked `commit_on_error`), then run the
after-commit callbacks, each isolated so that one failing never undoes or misreports the
committed write. Not for: choosing the kind of session (kit.db.session, `Database`)."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.errors import AppError

AfterCommit = Callable[[], Awaitable[None]]
"""A callback run once the unit of work has committed (cache invalidation, enqueueing jobs)."""

_AFTER_COMMIT = "apiforge_after_commit"
_COMMIT_ON_ERROR = "apiforge_commit_on_error"
logger = logging.getLogger("apiforge.db")


@dataclass
class UnitOfWorkStats:
    """Plain counters (the request path only adds to them; kit.metrics exports them)."""

    after_commit_failures: int = 0


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once this session's unit of work has committed; a rollback discards
    it. Callbacks run in the order registered, before the response is sent (so a cache
    invalidated here is fresh for the client's next read). One that raises is logged with
    the request ID and counted (`apiforge_after_commit_failures_total`); the others still
    run and the committed answer stands."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def commit_on_error(session: AsyncSession) -> None:
    """Commit this unit of work even if the request then ends with an `AppError` (a refusal
    whose side effect must last: revoking a stolen token family before answering 401).
    Any other exception (a bug) still rolls back."""
    session.info[_COMMIT_ON_ERROR] = True


def commits_on_error(session: AsyncSession) -> bool:
    """Whether `commit_on_error` was called on this session."""
    return bool(session.info.get(_COMMIT_ON_ERROR))


@asynccontextmanager
async def unit_of_work(session: AsyncSession, stats: UnitOfWorkStats) -> AsyncIterator[None]:
    """Commit when the block ends, roll back when it raises; then the callbacks."""
    try:
        yield
        await session.commit()
    except AppError:
        if not session.info.get(_COMMIT_ON_ERROR):
            await _roll_back(session)
            raise
        await session.commit()
        await _run_after_commit(session, stats)
        raise
    except BaseException:
        await _roll_back(session)
        raise
    await _run_after_commit(session, stats)


async def _roll_back(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)  # what was to follow the commit never happens
    await session.rollback()


async def _run_after_commit(session: AsyncSession, stats: UnitOfWorkStats) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        try:
            await callback()
        except Exception:  # the write is committed: a callback must not undo the answer
            stats.after_commit_failures += 1
            logger.exception(
                "after-commit callback %s failed; the write stays committed",
                getattr(callback, "__qualname__", repr(callback)),
            )
