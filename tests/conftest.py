"""Shared fixtures: the shop app on each database (SQLite and PostgreSQL), each test isolated
in a transaction that is rolled back, or for `@pytest.mark.committed` tests, on committed data
with the tables emptied afterwards."""

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from apiforge.kit.db.database import Database
from apiforge.kit.lifespan import app_state
from apiforge.kit.settings import Environment, LoopLagSettings, Settings
from apiforge.shop.app import create_shop_app
from apiforge.shop.catalog.service import CATALOG_TAG
from apiforge.shop.models import metadata
from tests.databases import migrated_database
from tests.factories import UserWithPassword, auth_headers, create_user

# Loaded here rather than with `-p` so that coverage, which starts before conftests load,
# also measures the kit modules the plugin imports.
pytest_plugins = ["apiforge.kit.testing.plugin"]

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgres" else None
    async with migrated_database(
        request.param,
        directory=tmp_path_factory.mktemp("sqlite"),
        name=f"apiforge_test_{os.getpid()}",
        postgres_admin=admin,
    ) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # No loop-lag monitor in the session-long app: it would report (and log into their caplog)
    # the stalls that tests/kit/test_looplag.py makes on purpose, with none of its requests.
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        loop_lag=LoopLagSettings(enabled=False),
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_shop_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def database(app: FastAPI) -> Database:
    return app_state(app).database


@pytest.fixture
def is_postgres(settings: Settings) -> bool:
    return not settings.is_sqlite


async def _empty_tables(database: Database) -> None:
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
        else:
            names = ", ".join(table.name for table in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db_connection(
    request: pytest.FixtureRequest, database: Database
) -> AsyncIterator[AsyncConnection | None]:
    """The test's transaction, rolled back at the end; None for committed tests."""
    if request.node.get_closest_marker("committed"):
        await _empty_tables(database)
        try:
            yield None
        finally:
            await _empty_tables(database)
        return
    async with database.engine.connect() as conn:
        transaction = await conn.begin()
        database.bind_to(conn)
        try:
            yield conn
        finally:
            database.unbind()
            await transaction.rollback()


@pytest.fixture
async def session(
    db_connection: AsyncConnection | None, database: Database
) -> AsyncIterator[AsyncSession]:
    """A session for arranging data: inside the test's transaction, or committing for
    committed tests (call `await session.commit()` there)."""
    if db_connection is None:
        async with database.session() as committed:
            yield committed
        return
    async with AsyncSession(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    ) as bound:
        yield bound


@pytest.fixture
async def client(
    app: FastAPI, db_connection: AsyncConnection | None
) -> AsyncIterator[httpx.AsyncClient]:
    # The app (and its cache) outlives each test's rolled-back data: start every test with
    # no cached catalog answer.
    cache = app_state(app).cache
    if cache is not None:
        await cache.invalidate_tags(CATALOG_TAG)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def customer(app: FastAPI, session: AsyncSession) -> UserWithPassword:
    return await create_user(app, session, email="customer@example.com", role="customer")


@pytest.fixture
async def other_customer(app: FastAPI, session: AsyncSession) -> UserWithPassword:
    return await create_user(app, session, email="other@example.com", role="customer")


@pytest.fixture
async def admin(app: FastAPI, session: AsyncSession) -> UserWithPassword:
    return await create_user(app, session, email="admin@example.com", role="admin")


@pytest.fixture
def customer_headers(app: FastAPI, customer: UserWithPassword) -> dict[str, str]:
    return auth_headers(app, customer)


@pytest.fixture
def other_headers(app: FastAPI, other_customer: UserWithPassword) -> dict[str, str]:
    return auth_headers(app, other_customer)


@pytest.fixture
def admin_headers(app: FastAPI, admin: UserWithPassword) -> dict[str, str]:
    return auth_headers(app, admin)
