"""The body read deadline of BodyLimitMiddleware: a body still arriving `body_read_timeout_seconds`
after the app first asked for it is answered 408 problem+json with `Connection: close`, and the
handler never runs (no partial write); a body that arrives in time is untouched."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import kit_app, serve

DEADLINE = 0.5


class Note(BaseModel):
    text: str


router = APIRouter()
handled: list[str] = []


@router.post("/notes")
async def create_note(note: Note) -> dict[str, int]:
    handled.append(note.text)
    return {"length": len(note.text)}


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    handled.clear()
    app = kit_app(sqlite_url, router, body_read_timeout_seconds=DEADLINE)
    async with serve(app) as http:
        yield http


async def _dribble(parts: list[bytes], pause: float) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(pause)
        yield part


async def test_a_body_slower_than_the_deadline_is_408_and_never_handled(
    client: httpx.AsyncClient,
) -> None:
    parts = [b'{"text": "', *([b"a"] * 10), b'"}']
    response = await client.post(
        "/notes",
        content=_dribble(parts, DEADLINE / 4),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 408
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["connection"] == "close"
    assert response.json()["code"] == "request.body_timeout"
    assert handled == []


async def test_a_body_within_the_deadline_is_handled(client: httpx.AsyncClient) -> None:
    parts = [b'{"text": ', b'"abc"}']
    response = await client.post(
        "/notes",
        content=_dribble(parts, DEADLINE / 10),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"length": 3}
    assert handled == ["abc"]
