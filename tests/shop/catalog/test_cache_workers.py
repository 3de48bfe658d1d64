"""Two uvicorn workers sharing PostgreSQL and Redis: an admin write is visible on the next read
in every worker, although each worker keeps its own in-process (L1) copy of catalog answers."""

import time
import uuid
from pathlib import Path

import httpx

from tests.live_server import live_shop_server, login, scratch_database

READS = 40  # fresh connections, spread by the kernel over both workers


def _prices(base_url: str, product_id: int) -> set[str]:
    # A new connection per request, so both worker processes answer some of them.
    return {
        httpx.get(f"{base_url}/api/products/{product_id}", timeout=5).json()["price"]
        for _ in range(READS)
    }


def test_an_admin_write_reaches_every_worker(
    postgres_admin: str, redis_url: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex
    env = {
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_CACHE__CHANNEL": f"apiforge:test:{unique}",
        "APIFORGE_CACHE__KEY_PREFIX": f"apiforge:test:{unique}:",
    }
    with (
        scratch_database("postgres", tmp_path, postgres_admin) as url,
        live_shop_server(url, workers=2, env=env) as base_url,
    ):
        admin = login(base_url, "admin@example.com")
        assert _prices(base_url, 1) == {"0.99"}  # now cached in both workers' L1 and Redis

        patched = httpx.patch(
            f"{base_url}/api/products/1", json={"price": "12.34"}, headers=admin, timeout=5
        )
        assert patched.status_code == 200
        # The invalidation is published before the PATCH answers; the other worker's listener
        # applies it asynchronously (milliseconds in practice; 0.2 s is the bound we hold it to).
        time.sleep(0.2)
        assert _prices(base_url, 1) == {"12.34"}
