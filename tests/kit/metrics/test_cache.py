"""Cache hits, misses and errors by cache layer ("l1", "redis", "front"), from the caches' own
counters, on the memory and Redis backends; front-cache hits counted under their route."""

import uuid

from fastapi import APIRouter, FastAPI, Request, Response
from redis.asyncio import Redis

from apiforge.kit import app_state, create_app
from apiforge.kit.cache import CacheStats, RedisCache, cached_json, public_max_age
from apiforge.kit.cache.front import FrontCache, front_cache_entry
from apiforge.kit.metrics import build_metrics
from apiforge.kit.metrics.cache import CacheCounters
from apiforge.kit.settings import CacheSettings
from tests.kit.apps import kit_settings, serve
from tests.kit.metrics.scrape import Samples, parse, scrape, value

HITS = "apiforge_cache_hits_total"
MISSES = "apiforge_cache_misses_total"
ERRORS = "apiforge_cache_errors_total"
router = APIRouter()


@router.get("/things/{name}")
async def thing(name: str, request: Request) -> Response:
    cache = app_state(request.app).cache
    assert cache is not None

    async def render() -> bytes:
        return b'{"name": "%s"}' % name.encode()

    key, tags = f"thing:{name}", ("things",)
    rendered = await cached_json(cache, key, render, ttl=60, tags=tags)
    return rendered.response(
        if_none_match=None,
        cache_control=public_max_age(5),
        front_cache=front_cache_entry(key, tags),
    )


def things_app(database_url: str, redis_url: str | None = None, channel: str = "") -> FastAPI:
    front = FrontCache(prefixes=("/things",), public_cache_control=public_max_age(5))
    cache = CacheSettings(channel=channel or "test:metrics", key_prefix=f"test:{channel}:")
    settings = kit_settings(database_url, redis_url=redis_url, cache=cache)
    return create_app(settings, routers=[router], front_cache=front)


async def test_memory_cache_and_front_cache_counts(sqlite_url: str) -> None:
    async with serve(things_app(sqlite_url)) as client:
        for name in ("a", "a", "b"):
            assert (await client.get(f"/things/{name}")).status_code == 200
        samples = await scrape(client)
    assert (value(samples, HITS, cache="l1"), value(samples, MISSES, cache="l1")) == (1, 2)
    assert (value(samples, HITS, cache="front"), value(samples, MISSES, cache="front")) == (1, 2)
    # The front-cache hit answered before routing, and is still counted under its route.
    ok = {"method": "GET", "route": "/things/{name}", "status": "200"}
    assert value(samples, "apiforge_http_requests_total", **ok) == 3


async def test_tiered_cache_counts_each_layer(
    sqlite_url: str, redis_url: str, redis_client: Redis
) -> None:
    """Two apps (two "workers") on one Redis: the second finds in Redis what the first put."""
    channel = f"test:metrics:{uuid.uuid4().hex}"
    first = things_app(sqlite_url, redis_url, channel)
    second = things_app(sqlite_url, redis_url, channel)
    async with serve(first) as one, serve(second) as two:
        await one.get("/things/a")  # L1 and Redis miss, both filled
        await one.get("/things/a")  # front-cache hit, read from L1
        await two.get("/things/a")  # its own L1 misses, Redis hits
        seen_by_one, seen_by_two = await scrape(one), await scrape(two)

    def layer(samples: Samples, cache: str) -> tuple[float, float]:
        return value(samples, HITS, cache=cache), value(samples, MISSES, cache=cache)

    assert layer(seen_by_one, "l1") == (1, 1)
    assert layer(seen_by_one, "redis") == (0, 1)
    assert layer(seen_by_one, "front") == (1, 1)
    assert layer(seen_by_two, "l1") == (0, 1)
    assert layer(seen_by_two, "redis") == (1, 0)


async def test_redis_failures_are_counted_as_errors() -> None:
    metrics = build_metrics(version="test")
    counters = CacheCounters(metrics)
    unreachable = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5)
    cache = RedisCache(unreachable, timeout=0.5)  # two failures: under the breaker's three
    try:
        assert await cache.get("k") is None  # down: a miss, counted as an error too
        counters.export([cache.stats])
        assert await cache.get("k") is None
        counters.export([cache.stats])  # only what changed since the last export is added
    finally:
        await unreachable.aclose()
    samples = parse(_exposition(metrics.registry))
    assert value(samples, ERRORS, cache="redis") == cache.stats.errors == 2
    assert value(samples, MISSES, cache="redis") == cache.stats.misses == 2


def test_counters_follow_the_stats_by_difference() -> None:
    metrics = build_metrics(version="test")
    counters = CacheCounters(metrics)
    stats = CacheStats("l1", hits=5, misses=1)
    counters.export([stats])
    stats.hits += 2
    counters.export([stats])
    counters.export([stats])
    samples = parse(_exposition(metrics.registry))
    assert (value(samples, HITS, cache="l1"), value(samples, MISSES, cache="l1")) == (7, 1)


def _exposition(registry: object) -> str:
    from prometheus_client import CollectorRegistry, generate_latest

    assert isinstance(registry, CollectorRegistry)
    return generate_latest(registry).decode()


async def test_no_cache_no_cache_series(sqlite_url: str) -> None:
    app = create_app(kit_settings(sqlite_url, cache=CacheSettings(enabled=False)))
    async with serve(app) as client:
        samples = await scrape(client)
    assert not any(name.startswith("apiforge_cache_") for name, _ in samples)
