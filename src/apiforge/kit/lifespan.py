"""The lifespan owns the process's long-lived resources (engine, Redis client, outbound HTTP
client, cache) and publishes them as the app's `AppState` (kit.state). Not for: per-request
state."""

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from apiforge.kit.auth.passwords import PasswordHasher
from apiforge.kit.auth.tokens import AccessTokenCodec
from apiforge.kit.cache import build_cache
from apiforge.kit.db.database import Database
from apiforge.kit.http_client import build_http_client
from apiforge.kit.identity import Identity, IdentityStore, IdentityStoreFactory
from apiforge.kit.settings import Settings
from apiforge.kit.state import AppState, LifespanResource, StartupHook, set_app_state

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("apiforge.lifespan")
# Per process: redis-py's default. A call holds one only for its round trip.
REDIS_CONNECTIONS = 100


def _redis_client(settings: Settings) -> "Redis":
    # Optional extra: imported only when configured.
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    # Blocking: past its connections a call waits (up to the socket timeout) for one to come
    # back. redis-py's default pool raises at once instead, so a burst of concurrent requests
    # (every rate-limited one makes a call) would fail the calls beyond the pool's size.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url or "",
        max_connections=REDIS_CONNECTIONS,
        timeout=settings.redis.socket_timeout,
        socket_timeout=settings.redis.socket_timeout,
        socket_connect_timeout=settings.redis.connect_timeout,
        health_check_interval=30,
        # Never redis-py's own policy (10 retries with backoff on timeouts too): one immediate
        # retry, on a broken connection only (a pooled one Redis closed when it restarted).
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return Redis.from_pool(pool)


def build_lifespan(
    settings: Settings,
    on_startup: Sequence[StartupHook] = (),
    resources: Sequence[LifespanResource] = (),
    identity_store: IdentityStoreFactory | None = None,
) -> Callable[[FastAPI], Any]:
    """`resources` is read when the app starts, so it may be filled after this call.
    `identity_store` builds the service's `IdentityStore` on the running database."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_url(settings.database_url, settings.db, name=settings.service_name)
        redis = _redis_client(settings) if settings.redis_url else None
        cache = (
            build_cache(settings.cache, redis, settings.redis) if settings.cache.enabled else None
        )
        tokens = AccessTokenCodec(settings.auth, settings.signing_key)
        http_client = build_http_client()
        store = identity_store(database) if identity_store is not None else IdentityStore()
        state = AppState(
            settings=settings,
            database=database,
            tokens=tokens,
            passwords=PasswordHasher(settings.auth),
            identity=Identity(
                settings,
                tokens=tokens,
                store=store,
                cache=cache,
                http_client=http_client,
                redis=redis,
            ),
            http_client=http_client,
            redis=redis,
            cache=cache,
        )
        set_app_state(app, state)
        try:
            async with AsyncExitStack() as stack:
                try:
                    if cache is not None:
                        await cache.start()
                    await stack.enter_async_context(state.identity.usage.running())
                    for resource in resources:
                        await stack.enter_async_context(resource(state))
                    for hook in on_startup:
                        await hook(state)
                except Exception as exc:
                    # One line a reader can act on (the server logs the traceback after it).
                    logger.error(
                        "%s did not start: %s: %s", settings.service_name, type(exc).__name__, exc
                    )
                    raise
                yield
        finally:
            if cache is not None:
                await cache.aclose()
            await state.http_client.aclose()
            if redis is not None:
                await redis.aclose()
            await database.dispose()
            set_app_state(app, None)

    return lifespan
