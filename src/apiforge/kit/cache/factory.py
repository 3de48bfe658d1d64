"""Builds the configured cache from settings (the lifespan calls this). Not for: tests that
want a specific backend (construct it directly)."""

from typing import TYPE_CHECKING

from apiforge.kit.cache.memory import MemoryCache
from apiforge.kit.cache.protocol import CacheBackend
from apiforge.kit.cache.redis_cache import RedisCache
from apiforge.kit.cache.tiered import TieredCache
from apiforge.kit.settings import CacheSettings, RedisSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def build_cache(
    settings: CacheSettings, redis: "Redis | None", redis_settings: RedisSettings | None = None
) -> CacheBackend:
    """A MemoryCache without Redis, else a TieredCache whose L1 hears invalidations on
    `settings.channel`, its Redis calls bounded and broken as `redis_settings` say (its
    socket timeout, breaker failures and cool-down). Call `start()` before serving and
    `aclose()` at shutdown."""
    l1 = MemoryCache(max_entries=settings.l1_max_entries, name="l1")
    if redis is None:
        return l1
    bounds = redis_settings or RedisSettings()
    l2 = RedisCache(
        redis,
        prefix=settings.key_prefix,
        channel=settings.channel,
        timeout=bounds.socket_timeout,
        failures=bounds.breaker_failures,
        cooldown=bounds.breaker_cooldown_seconds,
        name="redis",
    )
    return TieredCache(
        l1,
        l2,
        l1_ttl=settings.l1_ttl_seconds,
        name="cache",
        l2_after_misses=settings.l2_after_misses,
        l2_min_hit_ratio=settings.l2_min_hit_ratio,
    )
