"""The soak: `apiforge serve --server granian` (two workers) under a fixed rate of the
authenticated mix with writes (product reads over 200 products, the catalog page, a customer's
orders, orders placed) for APIFORGE_TEST_SOAK_SECONDS (default 20; `make reliability` runs
600). Every request answers 2xx; after a warm-up (the first fifth), the server's resident
memory grows less than 10 %; open file descriptors and database connections come back to what
they were after the warm-up, with none left idle in a transaction. Marked `reliability`: even
the short run costs ~100 s, mostly starting and seeding."""

import asyncio
import os
import random
import statistics
import time
from pathlib import Path

import asyncpg
import pytest

from apiforge.kit import DatabaseSettings
from tests.faults.figures import record
from tests.faults.load import FreshConnections, Pick, Send, open_loop, p99, statuses
from tests.faults.observers import open_fds, rss_bytes
from tests.faults.shop import add_products, scratch_postgres, served_shop_process
from tests.live_server import login

SECONDS = float(os.environ.get("APIFORGE_TEST_SOAK_SECONDS", "20"))
RATE = 40
WORKERS = 2
WARM_UP_SHARE = 0.2
MAX_RSS_GROWTH = 0.10
FD_SLACK = 8
# What two workers' pools may hold, and nothing more.
POOL_LIMIT = WORKERS * (DatabaseSettings().pool_size + DatabaseSettings().max_overflow)


def _mix(products: list[int], headers: dict[str, str]) -> Pick:
    reads = random.Random(12).choices(products, k=997)

    def pick(i: int) -> tuple[str, Send]:
        slot = i % 20
        if slot < 3:
            order = {"items": [{"product_id": reads[i % 997], "quantity": 1}]}
            return "POST /api/orders", lambda c: c.post("/api/orders", json=order, headers=headers)
        if slot < 7:
            return "GET /api/orders", lambda c: c.get("/api/orders", headers=headers)
        if slot < 10:
            return "GET /api/products", lambda c: c.get("/api/products", headers=headers)
        product = reads[i % 997]
        return "GET /api/products/{id}", lambda c: c.get(
            f"/api/products/{product}", headers=headers
        )

    return pick


async def _connections(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "SELECT state, count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY state"
        )
    finally:
        await connection.close()
    return {str(row["state"]): int(row["n"]) for row in rows}


async def _sample(pid: int, samples: list[tuple[float, int, int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), rss_bytes(pid), open_fds(pid)))
        await asyncio.sleep(1.0)


@pytest.mark.reliability
async def test_soak_holds_memory_fds_and_connections(postgres_admin: str, tmp_path: Path) -> None:
    async with scratch_postgres(postgres_admin) as url:
        log = tmp_path / "shop.log"
        with served_shop_process(url, log, workers=WORKERS, server="granian") as (
            base_url,
            process,
        ):
            products = await add_products(url, 200)
            headers = login(base_url, "customer@example.com")
            samples: list[tuple[float, int, int]] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample(process.pid, samples, stop))
            started = time.monotonic()
            load = asyncio.create_task(
                open_loop(
                    FreshConnections(base_url), _mix(products, headers), rate=RATE, seconds=SECONDS
                )
            )
            await asyncio.sleep(SECONDS * WARM_UP_SHARE)
            warm_connections = await _connections(url)
            outcomes = await load
            stop.set()
            await sampler
            await asyncio.sleep(2.0)  # requests answered; let the pools settle
            end_fds = open_fds(process.pid)
            end_connections = await _connections(url)

    warm_from = started + SECONDS * WARM_UP_SHARE
    warm = [s for s in samples if s[0] >= warm_from]
    quarter = max(1, len(warm) // 4)
    rss_start = statistics.mean(s[1] for s in warm[:quarter])
    rss_end = statistics.mean(s[1] for s in warm[-quarter:])
    fds_warm = warm[0][2]
    figures = {
        "seconds": SECONDS,
        "rate": RATE,
        "answers": statuses(outcomes),
        "p99_ms": round(p99(outcomes) * 1000, 1),
        "rss_after_warm_up_mb": round(rss_start / 2**20, 1),
        "rss_at_end_mb": round(rss_end / 2**20, 1),
        "rss_growth": round(rss_end / rss_start - 1, 4),
        "fds_after_warm_up": fds_warm,
        "fds_max": max(s[2] for s in warm),
        "fds_at_end": end_fds,
        "db_connections_after_warm_up": warm_connections,
        "db_connections_at_end": end_connections,
    }
    record("soak", figures)
    assert all(o.ok for o in outcomes), statuses(outcomes)
    assert rss_end / rss_start - 1 < MAX_RSS_GROWTH
    assert end_fds <= fds_warm + FD_SLACK
    assert sum(end_connections.values()) <= POOL_LIMIT
    assert end_connections.get("idle in transaction", 0) == 0
