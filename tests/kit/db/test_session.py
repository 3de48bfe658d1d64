"""The request's unit of work on both backends: committed before the response starts, a failed
commit never reported as success, after-commit callbacks only after a commit."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import ConflictError, Database, DbSession, after_commit, app_state
from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.db.session import request_session
from apiforge.kit.testing.plugin import count_queries
from tests.kit.apps import kit_app, serve

# FastAPI's default (request) scope runs a yield dependency's exit after the response: the
# control case, showing what the probe below catches.
LateCommitSession = Annotated[AsyncSession, Depends(request_session)]

router = APIRouter()
events: list[str] = []


async def _count(database: Database) -> int:
    """Rows as another connection sees them, i.e. what is committed."""
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM uow_items"))).scalar_one())


def _recorder(database: Database, label: str) -> Callable[[], Awaitable[None]]:
    async def callback() -> None:
        events.append(f"{label} sees {await _count(database)}")

    return callback


@router.post("/items", status_code=201)
async def create_item(session: DbSession, parent_id: int = 1) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (:p)"), {"p": parent_id})
    events.append("handler returned")
    return {"status": "created"}


@router.post("/items/late", status_code=201)
async def create_item_late(session: LateCommitSession) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (1)"))
    return {"status": "created"}


@router.post("/items/with-callbacks", status_code=201)
async def create_with_callbacks(
    request: Request, session: DbSession, fail: bool = False
) -> dict[str, str]:
    await session.execute(text("INSERT INTO uow_items (parent_id) VALUES (1)"))
    database = app_state(request.app).database
    after_commit(session, _recorder(database, "first"))
    after_commit(session, _recorder(database, "second"))
    if fail:
        raise ConflictError("The handler changed its mind.")
    return {"status": "created"}


@router.get("/items/count")
async def count_items(session: DbSession) -> dict[str, int]:
    rows = (await session.execute(text("SELECT count(*) FROM uow_items"))).scalar_one()
    return {"count": int(rows)}


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


@pytest.mark.parametrize(
    ("method", "path", "begin"),
    [("GET", "/items/count", "BEGIN DEFERRED"), ("POST", "/items", "BEGIN IMMEDIATE")],
)
async def test_sqlite_requests_begin_by_method(
    sqlite_url: str, method: str, path: str, begin: str
) -> None:
    async with unit_of_work(sqlite_url) as context:
        with count_queries(context.database.engine) as queries:
            response = await context.client.request(method, path)
        assert response.status_code in {200, 201}
        # The first statement of the request's own connection (probes use other connections).
        assert queries.statements[0] == begin
