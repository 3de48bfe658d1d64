"""The request's unit of work on both backends: the route declares it (`WriteSession` or
`ReadSession`), a write is committed before the response starts, a failed commit is never
reported as success, after-commit callbacks run only after a commit and cannot change its
answer, and `commit_on_error` is the one way to keep the changes of a refused request."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from sqlalchemy import column, insert, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    ConflictError,
    Database,
    ReadSession,
    WriteSession,
    after_commit,
    app_state,
    commit_on_error,
)
from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.db.session import write_session
from apiforge.kit.testing import count_queries
from tests.kit.apps import capture_kit_logs, kit_app, serve

# FastAPI's default (request) scope runs a yield dependency's exit after the response: the
# control case, showing what the probe below catches.
LateCommitSession = Annotated[AsyncSession, Depends(write_session)]

router = APIRouter()
events: list[str] = []
ITEMS = table("uow_items", column("parent_id"))


async def _count(database: Database) -> int:
    """Rows as another connection sees them, i.e. what is committed."""
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM uow_items"))).scalar_one())


def _recorder(database: Database, label: str) -> Callable[[], Awaitable[None]]:
    async def callback() -> None:
        events.append(f"{label} sees {await _count(database)}")

    return callback


@router.post("/items", status_code=201)
async def create_item(session: WriteSession, parent_id: int = 1) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (:p)"), {"p": parent_id})
    events.append("handler returned")
    return {"status": "created"}


@router.post("/items/late", status_code=201)
async def create_item_late(session: LateCommitSession) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (1)"))
    return {"status": "created"}


@router.post("/items/with-callbacks", status_code=201)
async def create_with_callbacks(
    request: Request, session: WriteSession, fail: bool = False, broken: bool = False
) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (1)"))
    database = app_state(request.app).database
    after_commit(session, _recorder(database, "first"))
    if broken:
        after_commit(session, _broken_callback)
    after_commit(session, _recorder(database, "second"))
    if fail:
        raise ConflictError("The handler changed its mind.")
    return {"status": "created"}


async def _broken_callback() -> None:
    events.append("broken ran")
    raise RuntimeError("the job queue is down")


@router.post("/items/refused-but-kept")
async def refuse_but_keep(session: WriteSession, bug: bool = False) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (1)"))
    commit_on_error(session)
    if bug:
        raise RuntimeError("not a refusal: a bug")
    raise ConflictError("Refused, but what was written stays.")


@router.get("/items/count")
async def count_items(session: ReadSession) -> dict[str, int]:
    rows = (await session.execute(text("SELECT count(*) FROM uow_items"))).scalar_one()
    return {"count": int(rows)}


@router.get("/items/count-for-update")
async def count_items_writing(session: WriteSession) -> dict[str, int]:
    rows = (await session.execute(text("SELECT count(*) FROM uow_items"))).scalar_one()
    return {"count": int(rows)}


@router.post("/items/through-a-read-session", status_code=201)
async def write_through_read(session: ReadSession) -> dict[str, str]:
    await session.execute(insert(ITEMS).values(parent_id=1))
    return {"status": "created"}


@dataclass
class UnitOfWork:
    client: httpx.AsyncClient
    database: Database
    # Committed rows seen from another connection at the moment each response started.
    at_response_start: list[int] = field(default_factory=list)

    async def committed_rows(self) -> int:
        return await _count(self.database)


def _probe(uow: "list[UnitOfWork]") -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def probed(scope: Scope, receive: Receive, send: Send) -> None:
            async def probing_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    uow[0].at_response_start.append(await uow[0].committed_rows())
                await send(message)

            await app(scope, receive, probing_send)

        return probed

    return wrap


@asynccontextmanager
async def unit_of_work(database_url: str) -> AsyncIterator[UnitOfWork]:
    app = kit_app(database_url, router)
    holder: list[UnitOfWork] = []
    async with serve(app, wrap=_probe(holder)) as client:
        database = app_state(app).database
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE uow_parents (id INTEGER PRIMARY KEY)"))
            # Deferred: a bad parent is only detected by COMMIT, after the handler returned.
            await conn.execute(
                text(
                    "CREATE TABLE uow_items (parent_id INTEGER NOT NULL"
                    " REFERENCES uow_parents (id) DEFERRABLE INITIALLY DEFERRED)"
                )
            )
            await conn.execute(text("INSERT INTO uow_parents (id) VALUES (1)"))
        holder.append(UnitOfWork(client, database))
        events.clear()
        try:
            yield holder[0]
        finally:
            async with database.engine.begin() as conn:
                await conn.execute(text("DROP TABLE uow_items"))
                await conn.execute(text("DROP TABLE uow_parents"))


@pytest.fixture
async def uow(kit_database_url: str) -> AsyncIterator[UnitOfWork]:
    async with unit_of_work(kit_database_url) as context:
        yield context


async def test_write_is_committed_before_the_response_starts(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items")
    assert response.status_code == 201
    assert uow.at_response_start == [1]


async def test_control_a_default_scope_session_commits_too_late(uow: UnitOfWork) -> None:
    """Proves the probe can fail: with FastAPI's default scope the 201 starts before the
    commit. If this ever changes, the kit's `scope="function"` note can go."""
    response = await uow.client.post("/items/late")
    assert response.status_code == 201
    assert uow.at_response_start == [0]
    assert await uow.committed_rows() == 1


async def test_commit_failure_is_an_error_answer_not_the_201(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items", params={"parent_id": 999})
    assert events == ["handler returned"]  # the handler succeeded; only COMMIT failed
    # A constraint only COMMIT could check is a conflict (retryable), never the handler's 201.
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "db.conflict"
    assert await uow.committed_rows() == 0


async def test_commit_raising_is_an_error_answer(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_commit(self: AsyncSession) -> None:
        raise ConnectionResetError("the database went away during COMMIT")

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await uow.client.post("/items")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "went away" not in response.text
    monkeypatch.undo()
    assert await uow.committed_rows() == 0  # rolled back, not left half done


async def test_after_commit_callbacks_run_in_order_after_the_commit(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items/with-callbacks")
    assert response.status_code == 201
    assert events == ["first sees 1", "second sees 1"]


async def test_after_commit_callbacks_are_dropped_on_rollback(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items/with-callbacks", params={"fail": True})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert events == []
    assert await uow.committed_rows() == 0
    again = await uow.client.post("/items/with-callbacks")  # nothing stale carried over
    assert again.status_code == 201
    assert events == ["first sees 1", "second sees 1"]


async def test_read_requests_see_committed_rows(uow: UnitOfWork) -> None:
    await uow.client.post("/items")
    response = await uow.client.get("/items/count")
    assert response.json() == {"count": 1}


async def test_a_failing_callback_is_logged_and_counted_and_the_write_stands(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    with capture_kit_logs(caplog):
        response = await uow.client.post("/items/with-callbacks", params={"broken": True})
    assert response.status_code == 201
    assert events == ["first sees 1", "broken ran", "second sees 1"]
    assert await uow.committed_rows() == 1
    assert uow.database.stats.after_commit_failures == 1
    (failure,) = [r for r in caplog.records if "after-commit callback" in r.getMessage()]
    assert "_broken_callback failed; the write stays committed" in failure.getMessage()
    assert failure.exc_info is not None
    assert caplog.text.count(response.headers["x-request-id"]) >= 1


async def test_commit_on_error_keeps_the_changes_of_a_refusal(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items/refused-but-kept")
    assert response.status_code == 409
    assert await uow.committed_rows() == 1


async def test_commit_on_error_does_not_keep_the_changes_of_a_bug(uow: UnitOfWork) -> None:
    response = await uow.client.post("/items/refused-but-kept", params={"bug": True})
    assert response.status_code == 500
    assert await uow.committed_rows() == 0


async def test_a_write_through_a_read_session_is_refused_and_writes_nothing(
    uow: UnitOfWork,
) -> None:
    response = await uow.client.post("/items/through-a-read-session")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert await uow.committed_rows() == 0


@pytest.mark.parametrize(
    ("method", "path", "begin"),
    [
        ("GET", "/items/count", "BEGIN DEFERRED"),
        ("GET", "/items/count-for-update", "BEGIN IMMEDIATE"),
        ("POST", "/items", "BEGIN IMMEDIATE"),
    ],
)
async def test_sqlite_requests_begin_by_declared_session(
    sqlite_url: str, method: str, path: str, begin: str
) -> None:
    async with unit_of_work(sqlite_url) as context:
        with count_queries(context.database.engine) as queries:
            response = await context.client.request(method, path)
        assert response.status_code in {200, 201}
        # The first statement of the request's own connection (probes use other connections).
        assert queries.statements[0] == begin
