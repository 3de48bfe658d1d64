"""Redis hangs (SIGSTOP on a Redis the test owns: connections stay open, nothing answers) under
random product reads on the served shop (two Uvicorn workers, the kit's defaults): every read is
still answered 200 from the database, readiness stays 200 reporting Redis as degraded, and once
the breakers have opened the reads are as fast as before the fault. Redis resumed, its hits come
back within 5 s.

What the fault costs is bounded, not zero: requests already waiting on Redis when it froze, and
those arriving before three calls have failed, each wait for one socket timeout (0.5 s) per
Redis call, at most two calls (the front cache's lookup and the route's). That is the detection
window, asserted on its own; the steady state after it is held to the issue's bound.
"""

import asyncio
import random
import time
from pathlib import Path

import httpx
from redis.asyncio import Redis

from apiforge.kit import RedisSettings
from tests.faults.figures import record
from tests.faults.load import (
    FreshConnections,
    Outcome,
    Send,
    between,
    open_loop,
    p99,
    statuses,
)
from tests.faults.processes import OwnedRedis
from tests.faults.shop import add_products, scratch_postgres, served_shop, tracebacks

RATE = 60  # requests a second, open loop
BASE_SECONDS, HUNG_SECONDS, AFTER_SECONDS = 5.0, 6.0, 4.0
DETECTION_SECONDS = 1.0
PRODUCTS = 1000
SOCKET_TIMEOUT = RedisSettings().socket_timeout
BACK_WITHIN_SECONDS = 5.0
# Shorter than the catalog entries' 5 s: repeated reads reach Redis (an L2 hit) instead of
# being served by each worker's in-process copy, so Redis carries real hits.
L1_TTL_SECONDS = 1.0


async def _keyspace_hits(redis: Redis) -> int:
    stats = await redis.info("stats")
    return int(stats["keyspace_hits"])


async def _cache_back(redis: Redis, client: httpx.AsyncClient, since: float) -> dict[str, float]:
    """How long after `since` the shop wrote cache entries to Redis again (the breakers closed),
    then proof that it reads them: an entry written since, read again once the in-process
    copies have expired, is a Redis hit."""
    entries = await redis.dbsize()  # what survived the hang (entries live 5 s)
    while await redis.dbsize() <= entries:
        assert time.monotonic() - since < BACK_WITHIN_SECONDS, "no cache writes after the fault"
        await asyncio.sleep(0.05)
    writing = time.monotonic() - since
    keys = [key async for key in redis.scan_iter(match=b"*:e:catalog:product:*", count=1000)]
    ttls = [await redis.pttl(key) for key in keys]
    freshest = keys[ttls.index(max(ttls))]  # the longest left: alive after the wait below
    await asyncio.sleep(L1_TTL_SECONDS + 0.1)
    hits = await _keyspace_hits(redis)
    product_id = freshest.rsplit(b":", 1)[1].decode()
    assert (await client.get(f"/api/products/{product_id}")).status_code == 200
    assert await _keyspace_hits(redis) > hits
    return {
        "writes_back_after_s": round(writing, 2),
        "hit_proven_after_s": round(time.monotonic() - since, 2),
    }


def _latencies(outcomes: list[Outcome]) -> dict[str, float]:
    return {
        "p99_ms": round(p99(outcomes) * 1000, 1),
        "max_ms": round(max(o.latency for o in outcomes) * 1000, 1),
    }


async def test_catalog_reads_ride_out_a_hung_redis(postgres_admin: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    async with scratch_postgres(postgres_admin) as url:
        with OwnedRedis(tmp_path) as owned:
            env = {
                "APIFORGE_REDIS_URL": owned.url(),
                "APIFORGE_CACHE__L1_TTL_SECONDS": str(L1_TTL_SECONDS),
                # Every in-process miss asks Redis: at these rates its reads hit less often
                # than the gate's default asks (kit.cache.tiered.L2Gate), and this test is
                # about Redis calls hanging, not about how few of them a worker makes.
                "APIFORGE_CACHE__L2_MIN_HIT_RATIO": "0",
            }
            with served_shop(url, log, workers=2, env=env) as base_url:
                ids = await add_products(url, PRODUCTS)
                picks = random.Random(12).choices(ids, k=int(RATE * 30))

                def read(i: int) -> tuple[str, Send]:
                    path = f"/api/products/{picks[i % len(picks)]}"
                    return "GET /api/products/{id}", lambda c: c.get(path)

                redis = Redis.from_url(owned.url(), socket_timeout=2)
                client = httpx.AsyncClient(base_url=base_url, timeout=10)
                try:
                    clients = FreshConnections(base_url)
                    await open_loop(clients, read, rate=RATE, seconds=1)  # warm-up
                    seconds = BASE_SECONDS + HUNG_SECONDS + AFTER_SECONDS
                    load = asyncio.create_task(open_loop(clients, read, rate=RATE, seconds=seconds))
                    started = time.monotonic()
                    await asyncio.sleep(BASE_SECONDS)
                    hits_before = await _keyspace_hits(redis)
                    owned.pause()
                    hung_at = time.monotonic()
                    await asyncio.sleep(DETECTION_SECONDS + 0.5)
                    ready = await client.get("/health/ready")
                    await asyncio.sleep(hung_at + HUNG_SECONDS - time.monotonic())
                    owned.resume()
                    back_at = time.monotonic()
                    back = await _cache_back(redis, client, back_at)
                    outcomes = await load
                finally:
                    await client.aclose()
                    await redis.aclose()

    # Requests sent in the last half second before the freeze may still be waiting on Redis
    # when it comes: they belong to neither window.
    base = between(outcomes, started, hung_at - SOCKET_TIMEOUT)
    detection = between(outcomes, hung_at, hung_at + DETECTION_SECONDS)
    steady = between(outcomes, hung_at + DETECTION_SECONDS, back_at)
    after = between(outcomes, back_at, float("inf"))
    bound = 2 * p99(base) + 0.1
    record(
        "redis_hung",
        {
            "requests": statuses(outcomes),
            "before": _latencies(base),
            "detection_first_1s": _latencies(detection),
            "hung_after_detection": _latencies(steady),
            "hung_whole_window": _latencies(detection + steady),
            "after": _latencies(after),
            "bound_ms": round(bound * 1000, 1),
            "redis_hits_before_fault": hits_before,
            **back,
            "readiness_while_hung": ready.json(),
        },
    )
    assert hits_before > 0  # Redis served hits before the fault
    assert statuses(outcomes) == {"200": len(outcomes)}  # 0 x 5xx, no request lost
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["redis"] != "ok"
    assert p99(steady) <= bound
    assert max(o.latency for o in detection) <= 2 * SOCKET_TIMEOUT + bound
    assert not tracebacks(log)
