"""The pytest plugin of a service built on the kit: real PostgreSQL and Redis, the service's app
on each database (SQLite and PostgreSQL) with its migrations applied, each test in a
transaction rolled back at its end, and an HTTP client on the app.

A service's `tests/conftest.py` loads it and names its app (and, usually, its settings)::

    pytest_plugins = ["apiforge.kit.testing.plugin"]

    @pytest.fixture(scope="session")
    def app_factory() -> AppFactory:
        return create_notes_app

    @pytest.fixture(scope="session")
    def settings(database_url: str) -> NotesSettings:
        return NotesSettings.for_tests(database_url)

Fixtures (override any of them in a conftest): `database_backend` ("sqlite", "postgres"; every
database test runs on both), `database_url` (a database of this test process's own, dropped
at the end), `settings`, `app` (built once per process and backend, migrated, lifespan
running), `database`, `db_connection`, `session` (for arranging data: flushes land in the
test's transaction), `client` (httpx on the app), `app_reset` (a hook run before each
`client`), `postgres_admin`, `redis_url`, `redis_client`. Tests marked `committed` run on
committed data instead, the tables emptied before and after.

Each pytest process (each xdist worker) gets its own PostgreSQL database and Redis logical
database, so runs never see each other's data; a missing server is an error, never a skip.
"""

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from apiforge.kit.db.database import Database
from apiforge.kit.settings import Settings
from apiforge.kit.state import app_config, app_state
from apiforge.kit.testing.clients import AppFactory, asgi_client
from apiforge.kit.testing.databases import empty_tables, fresh_database, sessions_inside
from apiforge.kit.testing.services import (
    postgres_admin_url,
    rabbitmq_base_url,
    redis_base_url,
    require_tcp,
    worker_index,
)

BACKENDS = ("sqlite", "postgres")
COMMITTED = "committed"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{COMMITTED}: needs committed data visible to other connections; runs on committed "
        "data with the tables emptied before and after",
    )


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


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The tests' RabbitMQ (`APIFORGE_TEST_RABBITMQ_URL`); fails loudly when it is down."""
    url = rabbitmq_base_url()
    require_tcp("RabbitMQ", url)
    return url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    """A client on this worker's Redis database, flushed before and after the test."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, socket_timeout=2)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="session")
def app_factory() -> AppFactory:
    """The service's app factory, `(settings) -> FastAPI`: define this fixture in the
    service's conftest."""
    raise pytest.UsageError(
        "apiforge.kit.testing: define a session fixture `app_factory` returning your app "
        "factory (e.g. `return create_notes_app`) in tests/conftest.py"
    )


@pytest.fixture(scope="session", params=BACKENDS)
def database_backend(request: pytest.FixtureRequest) -> str:
    """Every test that uses the database runs once on SQLite and once on PostgreSQL."""
    backend: str = request.param
    return backend


def _database_name(config: pytest.Config) -> str:
    project = re.sub(r"[^a-z0-9]+", "_", Path(config.rootpath).name.lower()).strip("_")
    return f"{project or 'service'}_test_{os.getpid()}"


@pytest.fixture(scope="session")
async def database_url(
    request: pytest.FixtureRequest, database_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """An empty database of this test process's own (the `app` fixture migrates it)."""
    admin = request.getfixturevalue("postgres_admin") if database_backend == "postgres" else None
    async with fresh_database(
        database_backend,
        directory=tmp_path_factory.mktemp("sqlite"),
        name=_database_name(request.config),
        postgres_admin=admin,
    ) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The kit's test settings on `database_url`; a service overrides this with its own
    class: `return NotesSettings.for_tests(database_url)`."""
    return Settings.for_tests(database_url)


@pytest.fixture(scope="session")
async def app(app_factory: AppFactory, settings: Settings) -> AsyncIterator[FastAPI]:
    """The service's app on this backend, its migrations applied, its lifespan running."""
    application = app_factory(settings)
    migrations = app_config(application).migrations
    if migrations is not None:
        await migrations.upgrade(settings.database_url)
    async with LifespanManager(application):
        # API-key uses are written by each test's `client` at its end, inside its transaction;
        # the app's background writer would run on whichever test's connection is current.
        app_state(application).identity.usage.background = False
        yield application


@pytest.fixture
def database(app: FastAPI) -> Database:
    return app_state(app).database


@pytest.fixture
async def db_connection(
    request: pytest.FixtureRequest, database: Database
) -> AsyncIterator[AsyncConnection | None]:
    """The test's transaction, rolled back at the end: every session of the app runs inside
    it. None for `committed` tests, which see real commits on emptied tables."""
    if request.node.get_closest_marker(COMMITTED):
        await empty_tables(database)
        try:
            yield None
        finally:
            await empty_tables(database)
        return
    async with database.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            with sessions_inside(database, conn):
                yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(
    db_connection: AsyncConnection | None, database: Database
) -> AsyncIterator[AsyncSession]:
    """A session for arranging data: inside the test's transaction, or committing for
    committed tests (call `await session.commit()` there)."""
    if db_connection is None:
        async with database.write_session() as committed:
            yield committed
        return
    async with AsyncSession(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    ) as bound:
        yield bound


@pytest.fixture
async def app_reset(app: FastAPI) -> None:
    """Runs before each test's `client`: override it to drop what the app keeps across tests
    (cached answers computed from another test's rolled-back data, say)."""


@pytest.fixture
async def client(
    app: FastAPI, db_connection: AsyncConnection | None, app_reset: None
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the running app, inside the test's transaction. Cached identity
    lookups are dropped first: they were read from another test's rolled-back data; so are
    rate-limit counts, which other tests' requests ran up."""
    state = app_state(app)
    await state.identity.forget_all()
    if state.rate_limiter is not None:
        await state.rate_limiter.clear()
    async with asgi_client(app) as http:
        yield http
    # API-key uses noted by this test are written now, inside its transaction (and rolled back
    # with it), not by the background flush during a later test, whose connection it would
    # share: two transactions interleaved on one connection break each other's savepoints.
    await state.identity.usage.flush()
