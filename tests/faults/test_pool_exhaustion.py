"""PostgreSQL pool exhaustion: 200 requests at once (product reads, order listings, orders placed,
dashboards) against a pool of 5, every round trip to PostgreSQL made 40 ms slower by the fault
proxy so that each request holds its connection for a while. Every answer comes within
pool_timeout + 1 s and is a success or a 503 problem+json with `Retry-After`, never a 500; once
it is over no connection is left checked out and none idle in a transaction."""

import random

import asyncpg

from apiforge.kit import CacheSettings, DatabaseSettings, LoopLagSettings, app_state
from apiforge.kit.testing import bearer_headers, running_app
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings
from tests.faults.conftest import ShopData
from tests.faults.figures import record
from tests.faults.load import Send, burst, percentile, statuses
from tests.faults.proxy import FaultProxy, latency

POOL = DatabaseSettings(pool_size=5, max_overflow=0, pool_timeout=1.0)
CONCURRENT = 200
ROUND_TRIP_DELAY = 0.02  # each way: a write holds its connection for ~0.3 s


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


async def _sessions(url: str) -> dict[str, int]:
    """The shop's connections to its database, by state, as PostgreSQL sees them."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "SELECT coalesce(state, '') AS state, count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'apiforge'"
            " GROUP BY state"
        )
    finally:
        await connection.close()
    return {str(row["state"]): int(row["n"]) for row in rows}


async def test_pool_exhaustion_is_503_with_retry_after_never_500(shop_data: ShopData) -> None:
    with FaultProxy(_port(shop_data.url)) as proxy:
        url = shop_data.url.replace(f":{_port(shop_data.url)}/", f":{proxy.port}/")
        settings = ShopSettings.for_tests(
            url,
            db=POOL,
            cache=CacheSettings(enabled=False),  # every read reaches the database
            access_log=False,
            loop_lag=LoopLagSettings(enabled=False),
        )
        app = create_shop_app(settings)
        async with running_app(app) as client:
            headers = bearer_headers(app, shop_data.customer_id, "customer")
            products = random.Random(5).choices(shop_data.product_ids, k=CONCURRENT)

            def request(i: int) -> tuple[str, Send]:
                product = products[i]
                match i % 5:
                    case 0 | 1:
                        return "GET /api/products/{id}", lambda c: c.get(f"/api/products/{product}")
                    case 2:
                        return "GET /api/orders", lambda c: c.get("/api/orders", headers=headers)
                    case 3:
                        order = {"items": [{"product_id": product, "quantity": 1}]}
                        return "POST /api/orders", lambda c: c.post(
                            "/api/orders", json=order, headers=headers
                        )
                    case _:
                        return "GET /api/dashboard", lambda c: c.get(
                            "/api/dashboard", headers=headers
                        )

            await burst(client, request, POOL.pool_size)  # the pool's connections opened
            proxy.set(latency(ROUND_TRIP_DELAY))
            outcomes = await burst(client, request, CONCURRENT)
            proxy.set(latency(0))
            pool = app_state(app).database.engine.pool
            checked_out = pool.checkedout()  # type: ignore[attr-defined]  # QueuePool's
            sessions = await _sessions(shop_data.url)

    refused = [o for o in outcomes if o.status == 503]
    by_route: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        counts = by_route.setdefault(outcome.route, {})
        counts[str(outcome.status)] = counts.get(str(outcome.status), 0) + 1
    record(
        "pool_exhaustion",
        {
            "requests": statuses(outcomes),
            "by_route": by_route,
            "slowest_s": round(max(o.latency for o in outcomes), 2),
            "p50_s": round(percentile([o.latency for o in outcomes], 0.5), 2),
            "checked_out_after": checked_out,
            "sessions_after": sessions,
        },
    )
    assert set(statuses(outcomes)) <= {"200", "201", "503"}, statuses(outcomes)
    assert refused, "the pool was never exhausted: the test proves nothing"
    assert all(o.code == "db.unavailable" and o.retry_after == "1" for o in refused)
    assert all(o.content_type == "application/problem+json" for o in refused)
    assert max(o.latency for o in outcomes) <= POOL.pool_timeout + 1
    assert checked_out == 0
    assert sessions.get("idle in transaction", 0) == 0
    assert sessions.get("active", 0) == 0
