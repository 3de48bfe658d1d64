"""The shop's test set-up on the kit's pytest plugin (apiforge.kit.testing.plugin): the shop app
on each database (SQLite and PostgreSQL), each test in a transaction rolled back at its end
(or, for `@pytest.mark.committed` tests, on committed data with the tables emptied), plus the
shop's users."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import EventsSettings, LoopLagSettings, app_state
from apiforge.kit.testing import AppFactory
from apiforge.shop.app import create_shop_app
from apiforge.shop.catalog.service import CATALOG_TAG
from apiforge.shop.settings import PaymentSettings, ShopSettings
from tests.factories import UserWithPassword, auth_headers, create_organization, create_user
from tests.shop.payments.signing import PROVIDER_SECRET

# Loaded here rather than with `-p` so that coverage, which starts before conftests load,
# also measures the kit modules the plugin imports.
pytest_plugins = ["apiforge.kit.testing.plugin"]


@pytest.fixture(scope="session")
def app_factory() -> AppFactory:
    return create_shop_app


@pytest.fixture(scope="session")
def settings(database_url: str) -> ShopSettings:
    # No loop-lag monitor in the session-long app: it would report (and log into their caplog)
    # the stalls that tests/kit/test_looplag.py makes on purpose, with none of its requests.
    # No embedded outbox relay either: its polling would run on the app's engine, among the
    # statements the query-count tests count; the relay's own tests run it.
    return ShopSettings.for_tests(
        database_url,
        loop_lag=LoopLagSettings(enabled=False),
        events=EventsSettings(embedded_relay=False),
        payments=PaymentSettings(webhook_secret=SecretStr(PROVIDER_SECRET)),
    )


@pytest.fixture
async def app_reset(app: FastAPI) -> None:
    # The app (and its cache) outlives each test's rolled-back data: start every test with
    # no cached catalog answer.
    cache = app_state(app).cache
    if cache is not None:
        await cache.invalidate_tags(CATALOG_TAG)


class FrozenClock:
    """A clock that does not move: every rate-limit window stays open, at the same point,
    for the whole test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def frozen_limits(app: FastAPI, client: object) -> FrozenClock:
    """The app's rate limits (in process in these tests) on a frozen clock, from after the
    client's reset: no test depends on how fast a loaded machine sends its requests, and the
    headers' `t` values are exact."""
    limiter = app_state(app).rate_limiter
    assert limiter is not None
    clock = FrozenClock()
    limiter.local.clock = limiter.fallback.clock = clock
    return clock


@pytest.fixture
def unlimited(app: FastAPI, client: object) -> Iterator[None]:
    """No rate limits for this test: it sends bursts (a matrix of callers, a hundred retries
    at once) that are not what it is about. The limits' own tests are test_ratelimits.py."""
    state = app_state(app)
    limiter, state.rate_limiter = state.rate_limiter, None
    try:
        yield
    finally:
        state.rate_limiter = limiter


@pytest.fixture
def is_postgres(settings: ShopSettings) -> bool:
    return not settings.is_sqlite


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


# ------------------------------------------------------------------ organizations
ROLES = ("owner", "admin", "buyer", "viewer")


@dataclass(frozen=True)
class Org:
    id: int
    users: dict[str, UserWithPassword]
    headers: dict[str, dict[str, str]]


@pytest.fixture
async def org(app: FastAPI, session: AsyncSession) -> Org:
    users = {role: await create_user(app, session, email=f"{role}@a.example") for role in ROLES}
    members = {role: users[role] for role in ROLES if role != "owner"}
    org_id = await create_organization(session, users["owner"], name="A", members=members)
    return Org(org_id, users, {role: auth_headers(app, user) for role, user in users.items()})


@pytest.fixture
async def other_org(app: FastAPI, session: AsyncSession) -> Org:
    owner = await create_user(app, session, email="owner@b.example")
    org_id = await create_organization(session, owner, name="B")
    return Org(org_id, {"owner": owner}, {"owner": auth_headers(app, owner)})
