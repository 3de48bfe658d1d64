"""Revocation across worker processes: two uvicorn workers sharing PostgreSQL and Redis each keep
their own in-process copy of identity lookups, yet a revoked API key and a user who logged out
everywhere are refused by both within 5 s (in practice within milliseconds: the invalidation
is published over Redis before the revoking request answers)."""

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.live_server import live_shop_server, login, scratch_database

READS = 40  # fresh connections, spread by the kernel over both workers
WITHIN_SECONDS = 5.0


def _statuses(url: str, headers: dict[str, str]) -> set[int]:
    # A new connection per request, so both worker processes answer some of them.
    return {httpx.get(url, headers=headers, timeout=5).status_code for _ in range(READS)}


def _last_accepted(url: str, headers: dict[str, str]) -> float:
    """Seconds from now to the last request still served (0: none was), polling until a whole
    round of requests over both workers is refused; fails past WITHIN_SECONDS."""
    start, last = time.monotonic(), 0.0
    while time.monotonic() - start < WITHIN_SECONDS:
        refused = 0
        for _ in range(READS):
            status = httpx.get(url, headers=headers, timeout=5).status_code
            if status == 401:
                refused += 1
            else:
                last = time.monotonic() - start
        if refused == READS:
            return last
    pytest.fail(f"{url} was still served {WITHIN_SECONDS} s after the revocation")


@pytest.fixture(scope="module")
def shop(
    postgres_admin: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    unique = uuid.uuid4().hex
    env = {
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_CACHE__CHANNEL": f"apiforge:test:{unique}",
        "APIFORGE_CACHE__KEY_PREFIX": f"apiforge:test:{unique}:",
    }
    directory = tmp_path_factory.mktemp("revocation")
    with (
        scratch_database("postgres", directory, postgres_admin) as url,
        live_shop_server(url, workers=2, env=env) as base_url,
    ):
        yield base_url


def test_a_revoked_api_key_is_refused_by_every_worker(shop: str) -> None:
    owner = login(shop, "customer@example.com")
    org = httpx.post(f"{shop}/api/organizations", json={"name": "W"}, headers=owner, timeout=5)
    org_id = org.json()["id"]
    keys = f"{shop}/api/organizations/{org_id}/api-keys"
    made = httpx.post(keys, json={"name": "k", "scopes": ["orders:read"]}, headers=owner, timeout=5)
    key = {"X-API-Key": made.json()["key"]}
    orders = f"{shop}/api/organizations/{org_id}/orders"
    assert _statuses(orders, key) == {200}  # the key is now cached in both workers

    revoked = httpx.delete(f"{keys}/{made.json()['id']}", headers=owner, timeout=5)
    assert revoked.status_code == 204
    last = _last_accepted(orders, key)
    print(f"revoked API key: last request served {last:.3f} s after the revocation answered")


def test_logging_out_everywhere_is_refused_by_every_worker(shop: str) -> None:
    user = login(shop, "admin@example.com")
    me = f"{shop}/api/users/me"
    assert _statuses(me, user) == {200}  # the standing is now cached in both workers

    out = httpx.post(f"{shop}/api/auth/logout-all", headers=user, timeout=5)
    assert out.status_code == 204
    last = _last_accepted(me, user)
    print(f"logged out everywhere: last request served {last:.3f} s after the logout answered")
