"""First sight of an external user in two workers at once (a single-page app fires its first
calls in parallel, a load balancer spreads them), on committed data: two shop apps, each with
its own cache (so the in-process single flight cannot serialise them), link the subject to
one local user, and every request answers 200 as that user."""

import asyncio
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import ExternalIssuerSettings
from apiforge.shop.accounts.models import ExternalIdentity, User
from tests.kit.identity.jwks_server import ALL, identity_provider
from tests.shop.apps import shop_variant

pytestmark = pytest.mark.committed
WORKERS = 2
PER_WORKER = 5
ROUNDS = 10


async def _count(session: AsyncSession, model: type[User] | type[ExternalIdentity]) -> int:
    await session.rollback()  # a new transaction: see what the requests committed
    count = await session.scalar(select(func.count()).select_from(model)) or 0
    await session.rollback()  # SQLite: the test's transaction would lock out the apps
    return count


async def test_first_sight_in_two_workers_at_once_links_one_user(
    database_url: str, session: AsyncSession
) -> None:
    with identity_provider("https://idp.test", "apiforge-shop") as idp:
        issuer = ExternalIssuerSettings(
            issuer=idp.issuer, audience=idp.audience, jwks_url=idp.jwks_url, algorithms=ALL
        )
        auth = {"token_url": "/api/auth/token", "external_issuers": [issuer]}
        kid = idp.add_key("EdDSA")
        async with AsyncExitStack() as stack:
            clients: list[httpx.AsyncClient] = []
            for _ in range(WORKERS):
                _, client = await stack.enter_async_context(
                    shop_variant(database_url, None, auth=auth)
                )
                clients.append(client)
            for round_ in range(ROUNDS):  # several rounds: one can serialise by luck
                token = idp.token(kid, sub=f"new-{round_}", email=f"new-{round_}@corp.example")
                headers = {"Authorization": f"Bearer {token}"}
                async with asyncio.timeout(60):
                    responses = await asyncio.gather(
                        *(
                            client.get("/api/users/me", headers=headers)
                            for client in clients
                            for _ in range(PER_WORKER)
                        )
                    )
                assert [r.status_code for r in responses] == [200] * len(responses), [
                    r.text for r in responses
                ]
                assert len({r.json()["id"] for r in responses}) == 1
    assert await _count(session, ExternalIdentity) == ROUNDS
    assert await _count(session, User) == ROUNDS
