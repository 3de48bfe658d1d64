"""The lifespan builds the configured cache: in-process without Redis, tiered with Redis
(its listener running while the app runs), none when disabled."""

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from apiforge.kit import MemoryCache, TieredCache, app_state
from apiforge.kit.settings import CacheSettings, RedisSettings
from tests.kit.apps import kit_app, serve


async def test_without_redis_the_cache_is_in_process(sqlite_url: str) -> None:
    app = kit_app(sqlite_url)
    async with serve(app):
        cache = app_state(app).cache
        assert isinstance(cache, MemoryCache)
        assert cache.max_entries == 10_000


async def test_with_redis_the_cache_is_tiered_and_listens(
    sqlite_url: str, redis_url: str, redis_client: Redis
) -> None:
    settings = CacheSettings(l1_max_entries=50, l1_ttl_seconds=2, channel="test:lifespan")
    app = kit_app(sqlite_url, redis_url=redis_url, cache=settings)
    async with serve(app):
        cache = app_state(app).cache
        assert isinstance(cache, TieredCache)
        assert cache.l1_ttl == 2
        assert cache.l1.max_entries == 50
        assert cache.listener is not None
        assert await redis_client.pubsub_numsub("test:lifespan") == [(b"test:lifespan", 1)]
        await cache.set("k", b"v", ttl=10)
        assert await redis_client.get("apiforge:cache:e:k") is not None
    assert await redis_client.pubsub_numsub("test:lifespan") == [(b"test:lifespan", 0)]


async def test_disabled_means_no_cache(sqlite_url: str) -> None:
    app = kit_app(sqlite_url, cache=CacheSettings(enabled=False))
    async with serve(app):
        assert app_state(app).cache is None


async def test_the_redis_client_never_takes_redis_pys_defaults(
    sqlite_url: str, redis_url: str
) -> None:
    """redis-py alone would wait 5 s per call and retry 10 times with backoff (a hung Redis
    stalls a request for about a minute); the kit bounds each call and retries at most once,
    on a broken connection only."""
    bounds = RedisSettings(socket_timeout=0.3, breaker_failures=5, breaker_cooldown_seconds=7)
    app = kit_app(sqlite_url, redis_url=redis_url, redis=bounds)
    async with serve(app):
        state = app_state(app)
        assert state.redis is not None
        options = state.redis.connection_pool.connection_kwargs
        assert (options["socket_timeout"], options["socket_connect_timeout"]) == (0.3, 0.5)
        retry = options["retry"]
        assert retry.get_retries() == 1
        assert retry._supported_errors == (RedisConnectionError,)  # no accessor in redis-py
        cache = state.cache
        assert isinstance(cache, TieredCache)
        assert cache.l2.timeout == 0.3
        assert (cache.l2.breaker.failures, cache.l2.breaker.cooldown) == (5, 7)
