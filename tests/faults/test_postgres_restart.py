"""PostgreSQL restarted under load (`pg_ctl stop -m fast`, down for a second as a real server's
shutdown checkpoint and recovery would keep it, then `pg_ctl start`, on a cluster the test owns)
while the served shop (two workers, cache off so every request reaches the database) answers
product reads, order listings and orders: the errors fall inside one short window and are all
503 problem+json with `Retry-After`, never a 500 nor a traceback; once the database accepts
connections again every request succeeds, with no stale pooled connection failing later (they
are replaced at checkout, kit.db.disconnects)."""

import asyncio
import random
import time
from pathlib import Path

from tests.faults.figures import record
from tests.faults.load import FreshConnections, Outcome, Send, between, open_loop, p99, statuses
from tests.faults.processes import OwnedPostgres
from tests.faults.shop import add_products, served_shop, tracebacks
from tests.live_server import login

RATE = 40
BEFORE_SECONDS, AFTER_SECONDS = 3.0, 8.0
ERROR_WINDOW_SECONDS = 3.0
BACK_WITHIN_SECONDS = 5.0
DOWN_SECONDS = 1.0  # a toy cluster restarts in 0.2 s; a real one takes longer
# Requests sent just before the database accepts connections may still be connecting.
SETTLE_SECONDS = 0.5


def _failure_span(failures: list[Outcome]) -> float:
    if not failures:
        return 0.0
    return max(o.sent + o.latency for o in failures) - min(o.sent for o in failures)


async def test_a_restart_costs_one_short_window_of_503s(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with OwnedPostgres(tmp_path) as cluster:
        url = cluster.admin_url
        env = {"APIFORGE_CACHE__ENABLED": "false"}
        with served_shop(url, log, workers=2, env=env) as base_url:
            products = await add_products(url, 200)
            headers = login(base_url, "customer@example.com")
            picks = random.Random(7).choices(products, k=int(RATE * 20))

            def request(i: int) -> tuple[str, Send]:
                product = picks[i % len(picks)]
                if i % 4 == 2:
                    return "GET /api/orders", lambda c: c.get("/api/orders", headers=headers)
                if i % 4 == 3:
                    order = {"items": [{"product_id": product, "quantity": 1}]}
                    return "POST /api/orders", lambda c: c.post(
                        "/api/orders", json=order, headers=headers
                    )
                return "GET /api/products/{id}", lambda c: c.get(f"/api/products/{product}")

            clients = FreshConnections(base_url)
            await open_loop(clients, request, rate=RATE, seconds=1)  # every pool filled
            seconds = BEFORE_SECONDS + AFTER_SECONDS
            load = asyncio.create_task(open_loop(clients, request, rate=RATE, seconds=seconds))
            await asyncio.sleep(BEFORE_SECONDS)
            restart_at = time.monotonic()
            await asyncio.to_thread(cluster.stop)  # backends told to go: pools die
            await asyncio.sleep(DOWN_SECONDS)
            await asyncio.to_thread(cluster.start)
            accepting_at = time.monotonic()  # pg_ctl -w returns once it accepts
            outcomes = await load

    failures = [o for o in outcomes if not o.ok]
    after = between(outcomes, accepting_at + SETTLE_SECONDS, float("inf"))
    late = [o for o in failures if o.sent >= accepting_at]
    record(
        "postgres_restart",
        {
            "requests": statuses(outcomes),
            "down_s": round(accepting_at - restart_at, 2),
            "error_window_s": round(_failure_span(failures), 2),
            "failures_sent_after_accepting": len(late),
            "last_failure_after_accepting_s": round(
                max((o.sent - accepting_at for o in late), default=0.0), 2
            ),
            "p99_after_ms": round(p99(after) * 1000, 1),
            "failure_codes": sorted({str(o.code) for o in failures}),
        },
    )
    assert failures, "the restart was not felt: the test proves nothing"
    assert {o.status for o in failures} == {503}, statuses(outcomes)
    assert all(o.content_type == "application/problem+json" for o in failures)
    assert all(o.code == "db.unavailable" and o.retry_after == "1" for o in failures)
    assert not any(o.traceback for o in outcomes)
    assert _failure_span(failures) <= ERROR_WINDOW_SECONDS
    assert _failure_span(failures) <= accepting_at - restart_at + 1  # the outage, little more
    assert all(o.sent < accepting_at + BACK_WITHIN_SECONDS for o in failures)
    assert all(o.ok for o in after)  # no stale pooled connection failing once it is back
    assert not tracebacks(log)
