"""`Idempotent` on a tiny app of the kit's own, on both databases: what happens to a key when the
route fails (a bug frees it for a retry; a refusal is its answer, kept with the work when the
route keeps its work on error), when the route forgets to answer through it, and when keys are
required."""

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.orm import DeclarativeBase

from apiforge.kit import (
    ConflictError,
    IdempotencyKeyMixin,
    IdempotencySettings,
    Idempotent,
    WriteSession,
    app_state,
    commit_on_error,
    create_app,
)
from apiforge.kit.testing import bearer_headers
from tests.kit.apps import kit_settings, serve

SUFFIX = os.getpid()


class _Base(DeclarativeBase):
    metadata = MetaData()


class Key(IdempotencyKeyMixin, _Base):
    __tablename__ = f"kit_idempotency_{SUFFIX}"


THINGS = Table(f"kit_things_{SUFFIX}", _Base.metadata, Column("id", Integer, primary_key=True))
router = APIRouter()


@router.post("/things")
async def make_thing(session: WriteSession, idempotency: Idempotent) -> object:
    await session.execute(insert(THINGS))
    return await idempotency.respond(201, b'{"made": true}')


@router.post("/boom")
async def explode(session: WriteSession, idempotency: Idempotent) -> object:
    await session.execute(insert(THINGS))
    raise RuntimeError("a bug")


@router.post("/refuse-but-keep")
async def refuse_but_keep(session: WriteSession, idempotency: Idempotent) -> object:
    await session.execute(insert(THINGS))
    commit_on_error(session)
    raise ConflictError("refused, but the work stays")


@router.post("/forgets")
async def forgets(session: WriteSession, idempotency: Idempotent) -> dict[str, bool]:
    return {"answered": False}


def _app(url: str, **overrides: object) -> FastAPI:
    return create_app(kit_settings(url, **overrides), routers=[router], idempotency_keys=Key)


@pytest.fixture
async def app(kit_database_url: str) -> AsyncIterator[FastAPI]:
    application = _app(kit_database_url)
    async with serve(application) as client:
        database = app_state(application).database
        async with database.engine.begin() as conn:
            await conn.run_sync(_Base.metadata.create_all)
        application.state.test_client = client
        try:
            yield application
        finally:
            async with database.engine.begin() as conn:
                await conn.run_sync(_Base.metadata.drop_all)


def _client(app: FastAPI) -> httpx.AsyncClient:
    client: httpx.AsyncClient = app.state.test_client
    return client


def _headers(app: FastAPI, key: str) -> dict[str, str]:
    return {**bearer_headers(app, 1), "Idempotency-Key": key}


async def _things(app: FastAPI) -> int:
    async with app_state(app).database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(THINGS)) or 0)


async def test_a_bug_frees_the_key_for_a_retry(app: FastAPI) -> None:
    headers = _headers(app, "k")
    for _ in range(2):
        assert (await _client(app).post("/boom", headers=headers)).status_code == 500
    assert await _things(app) == 0
    made = await _client(app).post("/things", headers=_headers(app, "other"))
    assert made.status_code == 201


async def test_a_refusal_that_keeps_its_work_is_stored_with_it(app: FastAPI) -> None:
    headers = _headers(app, "kept")
    first = await _client(app).post("/refuse-but-keep", headers=headers)
    again = await _client(app).post("/refuse-but-keep", headers=headers)
    assert (first.status_code, again.status_code) == (409, 409)
    assert again.headers["idempotent-replayed"] == "true"
    assert await _things(app) == 1  # the work of the first request only


async def test_a_route_must_answer_through_the_context(app: FastAPI) -> None:
    headers = _headers(app, "forgot")
    assert (await _client(app).post("/forgets", headers=headers)).status_code == 500
    assert (await _client(app).post("/forgets", headers=headers)).status_code == 500  # freed


async def test_without_a_key_the_route_just_runs(app: FastAPI) -> None:
    for _ in range(2):
        made = await _client(app).post("/things", headers=bearer_headers(app, 1))
        assert made.status_code == 201
    assert await _things(app) == 2


async def test_required_keys_refuse_a_request_without_one(sqlite_url: str) -> None:
    application = _app(sqlite_url, idempotency=IdempotencySettings(required=True))
    async with serve(application) as client:
        response = await client.post("/things", headers=bearer_headers(application, 1))
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency.key_missing"
