"""No user enumeration by timing: a login for an unknown email verifies a dummy argon2 hash, so
it takes as long as a wrong password for a real account.

What makes this meaningful: production argon2 parameters (OWASP's minimum, m=19 MiB, t=2: about
35 ms a verification here), and the user's stored hash made with them. With the test suite's
cheap parameters (64 KiB) a verification costs ~0.1 ms, and a login that skipped it would still
pass a 10 ms bound: the test would prove nothing. Here a skipped hash shows as a ~35 ms gap, and
the test also checks that the wrong-password median is above the bound, i.e. that the hash is
what it measures.

What keeps it bounded and steady: the two kinds are interleaved (unknown, wrong, unknown, ...)
so both see the same machine load, the first pair is a warm-up, and medians ignore the spikes a
shared machine adds. 200 + 200 logins take about 15 s (APIFORGE_ENUMERATION_LOGINS=60 for a
quicker look; their medians move by a millisecond or two between runs). Rate limits are off:
this is about the password check alone (the answers' equality, limits included, is in
test_login_limits.py)."""

import os
import statistics
import time

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import AuthSettings, PasswordHasher
from apiforge.shop.accounts.models import User
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings

LOGINS = int(os.environ.get("APIFORGE_ENUMERATION_LOGINS", "200"))
BOUND_MS = 10.0
PASSWORD = "the real password"
# OWASP's minimum for argon2id, the production default (AuthSettings).
PRODUCTION_ARGON2 = {"argon2_memory_kib": 19456, "argon2_time_cost": 2, "argon2_parallelism": 1}


async def _timed(client: httpx.AsyncClient, email: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = await client.post("/api/auth/login", json={"email": email, "password": "wrong!"})
    return (time.perf_counter() - started) * 1000, response.status_code


@pytest.mark.committed  # a second app (its own engine) must see the user
async def test_unknown_email_and_wrong_password_take_the_same_time(
    settings: ShopSettings, session: AsyncSession
) -> None:
    if settings.is_sqlite:
        pytest.skip("measured once, on PostgreSQL: the property does not depend on the database")
    auth = AuthSettings(token_url="/api/auth/token", **PRODUCTION_ARGON2)  # type: ignore[arg-type]  # ints
    realistic = settings.model_copy(
        update={"auth": auth, "ratelimit": settings.ratelimit.model_copy(update={"enabled": False})}
    )
    session.add(
        User(
            email="known@example.com",
            password_hash=await PasswordHasher(auth).hash(PASSWORD),
            role="customer",
        )
    )
    await session.commit()
    shop = create_shop_app(realistic)
    unknown, wrong = [], []
    async with LifespanManager(shop):
        transport = httpx.ASGITransport(app=shop)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for i in range(LOGINS + 1):
                first, second = (
                    await _timed(client, f"nobody{i}@example.com"),
                    await _timed(client, "known@example.com"),
                )
                assert first[1] == second[1] == 401
                if i:  # the first pair warms up the hasher's thread and the database
                    unknown.append(first[0])
                    wrong.append(second[0])
    median_unknown, median_wrong = statistics.median(unknown), statistics.median(wrong)
    print(
        f"{LOGINS} + {LOGINS} logins: unknown email median {median_unknown:.1f} ms, "
        f"wrong password median {median_wrong:.1f} ms"
    )
    assert median_wrong > BOUND_MS  # the hash dominates: a skipped one would show
    assert abs(median_unknown - median_wrong) <= BOUND_MS
