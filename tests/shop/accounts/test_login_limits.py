"""Login protection with the shop's default policies (in process here; Redis in
tests/shop/test_rate_limits_workers.py): the 6th attempt per account and address within the
window is refused before any password is checked, right or wrong, and exactly so under
concurrency; a success forgets the account's count; an address is limited across accounts;
the token form shares the counts; and an unknown account is answered exactly as a wrong
password, rate-limit headers included. With Redis down, sign-in still counts (in process) and
registration refuses (503): neither fails open."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.bench.targets import free_port
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings
from tests.answers import assert_problem
from tests.conftest import FrozenClock
from tests.factories import UserWithPassword

LOGIN = "/api/auth/login"


@asynccontextmanager
async def peer(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from the socket peer `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_the_sixth_attempt_is_refused_even_with_the_right_password(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    wrong = [await attempt(client, customer.email, "wrong password") for _ in range(5)]
    sixth = await attempt(client, customer.email, customer.password)
    assert [r.status_code for r in wrong] == [401] * 5
    body = assert_problem(sixth, 429, "ratelimit.exceeded")
    assert 899 <= int(sixth.headers["retry-after"]) <= 900  # the 15-minute window
    assert body["detail"].startswith("Too many requests; try again in")
    assert '"login/15min";r=0' in sixth.headers["ratelimit"]


async def test_other_accounts_and_addresses_are_not_locked_out(
    app: FastAPI, client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    for _ in range(6):
        await attempt(client, customer.email, "wrong password")
    other_account = await attempt(client, "someone@example.com", "wrong password")
    async with peer(app, "198.51.100.20") as elsewhere:
        owner = await attempt(elsewhere, customer.email, customer.password)
    assert other_account.status_code == 401
    assert owner.status_code == 200  # the guesser's address is throttled, not the account


async def test_a_success_forgets_the_failures(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    for _ in range(4):
        await attempt(client, customer.email, "wrong password")
    assert (await attempt(client, customer.email, customer.password)).status_code == 200
    again = [(await attempt(client, customer.email, "wrong")).status_code for _ in range(6)]
    assert again == [401] * 5 + [429]


@pytest.mark.committed  # concurrent requests: each on a connection of its own
async def test_exact_under_concurrency(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    """20 guesses at once for one account from one address: exactly 5 are checked."""
    await session.commit()
    answers = await asyncio.gather(
        *(attempt(client, customer.email, f"guess {i}") for i in range(20))
    )
    codes = [answer.status_code for answer in answers]
    assert (codes.count(401), codes.count(429)) == (5, 15)


async def test_an_address_is_limited_across_accounts(client: httpx.AsyncClient) -> None:
    """Credential stuffing: one guess each for many accounts. 20 attempts a minute."""
    codes = [
        (await attempt(client, f"user{i}@example.com", "password1")).status_code for i in range(21)
    ]
    assert codes == [401] * 20 + [429]


async def test_the_token_form_shares_the_count(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    for _ in range(5):
        await attempt(client, customer.email, "wrong password")
    form = {"username": customer.email, "password": customer.password}
    assert_problem(await client.post("/api/auth/token", data=form), 429, "ratelimit.exceeded")


def _answer(response: httpx.Response) -> tuple[int, dict[str, object], dict[str, str]]:
    """Everything a client sees but the request's own ID."""
    body = response.json()
    body.pop("request_id")
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, body, headers


async def test_unknown_account_and_wrong_password_answer_alike(
    app: FastAPI,
    client: httpx.AsyncClient,
    customer: UserWithPassword,
    frozen_limits: FrozenClock,
) -> None:
    """Same status, body and headers (RateLimit included: an unknown account is counted
    like a known one), from two addresses so that each starts from the same count; and
    again when both are refused. The limits' clock is frozen so that the headers' seconds
    to reset do not depend on when each request arrived."""
    async with peer(app, "198.51.100.1") as one, peer(app, "198.51.100.2") as two:
        for _ in range(5):
            wrong = await attempt(one, customer.email, "wrong password")
            unknown = await attempt(two, "nobody@example.com", "wrong password")
            assert _answer(wrong) == _answer(unknown)
        assert _answer(await attempt(one, customer.email, "x")) == _answer(
            await attempt(two, "nobody@example.com", "x")
        )


async def test_registration_is_limited(client: httpx.AsyncClient) -> None:
    codes = [
        (
            await client.post(
                "/api/auth/register", json={"email": f"new{i}@example.com", "password": "p" * 10}
            )
        ).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]


async def test_refresh_is_limited_per_address(client: httpx.AsyncClient) -> None:
    codes = [
        (await client.post("/api/auth/refresh", json={"refresh_token": f"t{i}"})).status_code
        for i in range(31)
    ]
    assert codes == [401] * 30 + [429]


async def test_password_changes_are_limited_per_user(
    client: httpx.AsyncClient, customer: UserWithPassword, customer_headers: dict[str, str]
) -> None:
    change = {"current_password": "not it", "new_password": "a new password"}
    codes = [
        (
            await client.post("/api/users/me/password", json=change, headers=customer_headers)
        ).status_code
        for _ in range(6)
    ]
    assert codes == [403] * 5 + [429]


async def test_with_redis_down_sign_in_still_counts_and_registration_refuses(
    app: FastAPI, settings: ShopSettings
) -> None:
    """The shop's choice per policy (ratelimits.py): sign-in counts in process, registration
    fails closed; neither fails open."""
    down = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "cache": settings.cache}
    )
    shop = create_shop_app(down)
    async with LifespanManager(shop), peer(shop, "192.0.2.50") as client:
        codes = [
            (await attempt(client, "nobody@example.com", "wrong")).status_code for _ in range(6)
        ]
        register = await client.post(
            "/api/auth/register", json={"email": "new@example.com", "password": "p" * 10}
        )
    assert codes == [401] * 5 + [429]
    assert_problem(register, 503, "ratelimit.unavailable")
    assert register.headers["retry-after"] == "1"
