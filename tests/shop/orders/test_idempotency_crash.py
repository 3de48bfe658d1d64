"""A worker killed (`kill -9`) in the middle of placing an order with an `Idempotency-Key`: the
order was not committed, the key's claim was; after a restart, the client's retry with the key
places the order once, when the claim's lease has run out (1 s here)."""

import asyncio
import concurrent.futures
import os
import signal
import time
from pathlib import Path

import asyncpg
import httpx

from apiforge.kit import AccessTokenCodec, Principal
from apiforge.shop.settings import ShopSettings
from tests.live_server import scratch_database, seed_shop_database, shop_process

LEASE = {"APIFORGE_IDEMPOTENCY__LEASE_SECONDS": "1"}
ORDER = {"items": [{"product_id": 1, "quantity": 1}]}


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def _scalar(url: str, query: str) -> int:
    conn = await asyncpg.connect(_plain(url), timeout=5)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


def test_a_retry_after_a_killed_worker_places_the_order_once(
    postgres_admin: str, tmp_path: Path
) -> None:
    with scratch_database("postgres", tmp_path, postgres_admin) as url:
        seed_shop_database(url)
        asyncio.run(_scalar(url, "UPDATE products SET stock = 10 WHERE id = 1 RETURNING 1"))
        customer_id = asyncio.run(
            _scalar(url, "SELECT id FROM users WHERE email = 'customer@example.com'")
        )
        settings = ShopSettings.for_tests(url)  # the servers' key: the test environment's
        token = AccessTokenCodec(settings.auth, settings.signing_key).issue(
            Principal(str(customer_id), "customer")
        )
        customer = {"Authorization": f"Bearer {token.token}", "Idempotency-Key": "crash-1"}
        asyncio.run(_crash_mid_order(url, customer))
        with shop_process(url, env=LEASE) as (_, base_url):
            deadline, response = time.monotonic() + 10, None
            while time.monotonic() < deadline:
                response = httpx.post(f"{base_url}/api/orders", json=ORDER, headers=customer)
                if response.status_code != 409:  # in progress until the dead claim's lease ends
                    break
                time.sleep(0.2)
            assert response is not None
            assert response.status_code == 201, response.text
            again = httpx.post(f"{base_url}/api/orders", json=ORDER, headers=customer)
            assert again.json()["id"] == response.json()["id"]
            assert again.headers["idempotent-replayed"] == "true"
        assert asyncio.run(_scalar(url, "SELECT count(*) FROM orders")) == 1
        assert asyncio.run(_scalar(url, "SELECT stock FROM products WHERE id = 1")) == 9


async def _crash_mid_order(url: str, headers: dict[str, str]) -> None:
    """Hold product 1's row lock, start the order (it claims its key, then waits for the lock),
    kill the server with SIGKILL, then let the lock go."""
    lock = await asyncpg.connect(_plain(url), timeout=5)
    transaction = lock.transaction()
    await transaction.start()
    await lock.execute("SELECT stock FROM products WHERE id = 1 FOR UPDATE")
    try:
        with (
            shop_process(url, env=LEASE) as (process, base_url),
            concurrent.futures.ThreadPoolExecutor(1) as pool,
        ):
            pending = pool.submit(
                httpx.post, f"{base_url}/api/orders", json=ORDER, headers=headers, timeout=30
            )
            deadline = time.monotonic() + 10
            while await _scalar(url, "SELECT count(*) FROM idempotency_keys") == 0:
                assert time.monotonic() < deadline, "the order never claimed its key"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # past the claim, waiting on the product's lock
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            assert isinstance(pending.exception(timeout=10), httpx.TransportError)
    finally:
        await transaction.rollback()
        await lock.close()
    assert await _scalar(url, "SELECT count(*) FROM orders") == 0
