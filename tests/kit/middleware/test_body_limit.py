from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from apiforge.kit.asgi import Scope
from apiforge.kit.middleware.body_limit import BodyLimitMiddleware
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import call_asgi, http_scope, kit_app, responder, serve

LIMIT = 2048
JSON = {"content-type": "application/json"}


class Note(BaseModel):
    text: str


router = APIRouter()


@router.post("/notes")
async def create_note(note: Note) -> dict[str, int]:
    return {"length": len(note.text)}


@router.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(kit_app(sqlite_url, router, max_body_bytes=LIMIT)) as http:
        yield http


async def _chunks(total: int, size: int = 512) -> AsyncIterator[bytes]:
    """A streamed body (no Content-Length: httpx sends it chunked)."""
    sent = 0
    while sent < total:
        chunk = b"a" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def _note_json(size: int) -> bytes:
    body = orjson.dumps({"text": ""})
    return orjson.dumps({"text": "a" * (size - len(body))})


async def test_declared_length_over_limit_is_refused_without_calling_the_app() -> None:
    called: list[Scope] = []

    async def record(scope: Scope) -> None:
        called.append(scope)

    app = BodyLimitMiddleware(responder(before=record), max_bytes=LIMIT)
    scope = http_scope([(b"content-length", str(LIMIT + 1).encode())], method="POST")
    exchange = await call_asgi(app, scope, [b"a" * (LIMIT + 1)])
    assert exchange.status == 413
    assert called == []
    assert exchange.header(b"content-type") == [PROBLEM_CONTENT_TYPE.encode()]
    assert exchange.header(b"connection") == [b"close"]
    assert orjson.loads(exchange.body)["code"] == "request.too_large"


async def test_declared_length_at_the_limit_passes() -> None:
    app = BodyLimitMiddleware(responder(), max_bytes=LIMIT)
    scope = http_scope([(b"content-length", str(LIMIT).encode())], method="POST")
    exchange = await call_asgi(app, scope, [b"a" * LIMIT])
    assert exchange.status == 200


async def test_declared_length_over_limit_through_the_app(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=_note_json(LIMIT + 1), headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["code"] == "request.too_large"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_streamed_json_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=_chunks(LIMIT * 3), headers=JSON)
    assert "content-length" not in response.request.headers  # really streamed
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "request.too_large"


async def test_streamed_raw_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", content=_chunks(LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"


async def test_a_lying_content_length_is_caught_while_streaming() -> None:
    """A client declaring a small length and sending more is stopped by the counted bytes."""
    app = BodyLimitMiddleware(responder(), max_bytes=LIMIT)
    scope = http_scope([(b"content-length", b"10")], method="POST")
    # Raw ASGI: FastAPI's exception handling turns this into the 413 answer.
    with pytest.raises(HTTPException) as caught:
        await call_asgi(app, scope, [b"a" * 1024, b"a" * 1024, b"a"])
    assert caught.value.status_code == 413


async def test_bodies_under_the_limit_pass(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=_note_json(LIMIT), headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"length": LIMIT - len(b'{"text":""}')}
    streamed = await client.post("/upload", content=_chunks(LIMIT))
    assert streamed.status_code == 200
    assert streamed.json() == {"size": LIMIT}


async def test_a_url_over_its_bound_is_414(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes?q=" + "a" * 9000)
    assert response.status_code == 414
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "request.uri_too_long"
    assert (await client.get("/notes?q=" + "a" * 7000)).status_code == 405  # through, to routing


async def test_headers_over_their_bound_are_431(client: httpx.AsyncClient) -> None:
    big = {f"x-filler-{i}": "b" * 1000 for i in range(17)}
    response = await client.post("/notes", json={"text": "hi"}, headers=big)
    assert response.status_code == 431
    assert response.json()["code"] == "request.headers_too_large"
    fine = {f"x-filler-{i}": "b" * 1000 for i in range(14)}
    assert (await client.post("/notes", json={"text": "hi"}, headers=fine)).status_code == 200


@pytest.mark.parametrize("depth", [1_000, 100_000, 500_000])
async def test_deeply_nested_json_is_refused_cheaply(sqlite_url: str, depth: int) -> None:
    """Nesting within the default body limit (1 MiB): the stdlib parser stops at its
    recursion limit, so a 4xx, never a 500 (nor a worker stuck walking the nesting)."""
    body = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
    async with serve(kit_app(sqlite_url, router)) as client:
        response = await client.post("/notes", content=body, headers=JSON)
    assert response.status_code in (400, 422), response.text
