"""Refresh rotation under real concurrency, on committed data: twenty refreshes of one token at
once, each request on its own connection through the app, mint exactly one new pair; the
others are replays, so the family (the winner's new token included) ends revoked. On
PostgreSQL the token row's FOR UPDATE lock decides; on SQLite, BEGIN IMMEDIATE."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.accounts.models import RefreshToken
from tests.factories import UserWithPassword
from tests.shop.accounts.conftest import login

pytestmark = pytest.mark.committed
PARALLEL = 20


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def _family(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """(refresh tokens of the user, how many of them are revoked), read afresh."""
    await session.rollback()  # a new transaction: see what the requests committed
    total = select(func.count()).where(RefreshToken.user_id == user_id)
    revoked = total.where(RefreshToken.revoked_at.is_not(None))
    counts = (await session.scalar(total) or 0, await session.scalar(revoked) or 0)
    await session.rollback()  # SQLite: the test's write transaction would lock out the app
    return counts


async def test_twenty_parallel_refreshes_of_one_token_give_one_pair(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    await session.commit()
    pair = await login(client, customer)

    async with asyncio.timeout(60):
        responses = await asyncio.gather(
            *(_refresh(client, pair.refresh_token) for _ in range(PARALLEL))
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * (PARALLEL - 1), [r.text for r in responses]
    codes = {r.json()["code"] for r in responses if r.status_code == 401}
    assert codes == {"auth.invalid_token"}
    # One new token minted beside the original, and the replays revoked both.
    assert await _family(session, customer.id) == (2, 2)
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert (await _refresh(client, winner["refresh_token"])).status_code == 401
    # The access token minted with it is a genuine one (only refresh tokens are revoked).
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {winner['access_token']}"}
    )
    assert me.status_code == 200


async def test_a_replay_after_rotation_revokes_the_family_and_nothing_else(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    await session.commit()
    first, other = await login(client, customer), await login(client, customer)
    rotated = (await _refresh(client, first.refresh_token)).json()
    newest = (await _refresh(client, rotated["refresh_token"])).json()

    replay = await _refresh(client, first.refresh_token)  # the original, used long ago

    assert replay.status_code == 401
    assert replay.json()["code"] == "auth.invalid_token"
    # Committed although the request failed: the newest token of the family is dead...
    assert (await _refresh(client, newest["refresh_token"])).status_code == 401
    # ...and the other login's family is untouched (4 tokens of which 3 revoked).
    assert await _family(session, customer.id) == (4, 3)
    assert (await _refresh(client, other.refresh_token)).status_code == 200
