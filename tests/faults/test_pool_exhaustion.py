"""PostgreSQL pool exhaustion: 200 requests at once (product reads, order listings, orders placed,
dashboards) against the served shop with a pool of 5, every round trip to PostgreSQL made 20 ms
slower by the fault proxy so that each request holds its connection for a while. Every answer
comes within pool_timeout + 1 s and is a success or a 503 problem+json with `Retry-After`, never
a 500; once it is over no connection is left checked out and none idle in a transaction.

The time bound is the pool's: on a machine busy with other work, 200 requests cost CPU time
before any of them reaches the pool. That cost is measured in the same run (200 `/health/live`
at once, no database) and allowed on top."""

import asyncio
import random
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.figures import record
from tests.faults.load import FreshConnections, Requester, Send, burst, percentile, statuses
from tests.faults.proxy import FaultProxy, latency
from tests.faults.shop import add_products, scratch_postgres, served_shop, tracebacks
from tests.live_server import login

POOL_SIZE, POOL_TIMEOUT = 5, 1.0
CONCURRENT = 200
ROUND_TRIP_DELAY = 0.01  # each way: a write holds its connection for ~0.2 s


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


async def _checked_out(client: httpx.AsyncClient) -> float:
    """The pool's checked-out connections, as the shop's metrics report them (exact at a
    scrape: the sampler runs then)."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "apiforge_db_pool_checked_out":
                return sample.value
    raise AssertionError("no apiforge_db_pool_checked_out in /metrics")


async def _live(client: Requester) -> httpx.Response:
    return await client.get("/health/live")


async def test_pool_exhaustion_is_503_with_retry_after_never_500(
    postgres_admin: str, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    async with scratch_postgres(postgres_admin) as direct_url:
        with FaultProxy(_port(direct_url)) as proxy:
            url = direct_url.replace(f":{_port(direct_url)}/", f":{proxy.port}/")
            env = {
                "APIFORGE_DB__POOL_SIZE": str(POOL_SIZE),
                "APIFORGE_DB__MAX_OVERFLOW": "0",
                "APIFORGE_DB__POOL_TIMEOUT": str(POOL_TIMEOUT),
                "APIFORGE_CACHE__ENABLED": "false",  # every read reaches the database
            }
            with served_shop(url, log, env=env) as base_url:
                products = random.Random(5).choices(
                    await add_products(direct_url, 200), k=CONCURRENT
                )
                headers = login(base_url, "customer@example.com")

                def request(i: int) -> tuple[str, Send]:
                    product = products[i]
                    match i % 5:
                        case 0 | 1:
                            return "GET /api/products/{id}", lambda c: c.get(
                                f"/api/products/{product}"
                            )
                        case 2:
                            return "GET /api/orders", lambda c: c.get(
                                "/api/orders", headers=headers
                            )
                        case 3:
                            order = {"items": [{"product_id": product, "quantity": 1}]}
                            return "POST /api/orders", lambda c: c.post(
                                "/api/orders", json=order, headers=headers
                            )
                        case _:
                            return "GET /api/dashboard", lambda c: c.get(
                                "/api/dashboard", headers=headers
                            )

                clients = FreshConnections(base_url)
                async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
                    await burst(clients, request, POOL_SIZE)  # the pool's connections opened
                    live = ("GET /health/live", _live)
                    control = await burst(clients, lambda _: live, CONCURRENT)
                    machine = max(o.latency for o in control)
                    proxy.set(latency(ROUND_TRIP_DELAY))
                    outcomes = await burst(clients, request, CONCURRENT)
                    proxy.set(latency(0))
                    await asyncio.sleep(0.2)  # answers sent, connections back in the pool
                    checked_out = await _checked_out(client)
                    sessions = await _sessions(direct_url)

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
            "slowest_of_200_live_probes_at_once_s": round(machine, 2),
            "p50_s": round(percentile([o.latency for o in outcomes], 0.5), 2),
            "checked_out_after": checked_out,
            "sessions_after": sessions,
        },
    )
    assert set(statuses(outcomes)) <= {"200", "201", "503"}, statuses(outcomes)
    assert refused, "the pool was never exhausted: the test proves nothing"
    assert all(o.code == "db.unavailable" and o.retry_after == "1" for o in refused)
    assert all(o.content_type == "application/problem+json" for o in refused)
    assert statuses(control) == {"200": CONCURRENT}
    assert max(o.latency for o in outcomes) <= POOL_TIMEOUT + 1 + machine
    assert checked_out == 0
    assert sessions.get("idle in transaction", 0) == 0
    assert sessions.get("active", 0) == 0
    assert not tracebacks(log)
