"""The lifespan owns the process's long-lived resources (engine, Redis client, outbound HTTP
client) and the typed `AppState` through which the request path reaches them. Not for:
per-request state."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI

from apiforge.kit.auth.passwords import PasswordHasher
from apiforge.kit.auth.tokens import AccessTokenCodec
from apiforge.kit.cache import CacheBackend, build_cache
from apiforge.kit.db.database import Database
from apiforge.kit.http_client import build_http_client
from apiforge.kit.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

StartupHook = Callable[["AppState"], Awaitable[None]]
# A process-long companion of the app (a metrics sampler, a tracer provider): entered after the
# state is built, before the startup hooks; exited in reverse order before the pools close.
LifespanResource = Callable[["AppState"], AbstractAsyncContextManager[None]]


@dataclass
class AppState:
    settings: Settings
    database: Database
    tokens: AccessTokenCodec
    passwords: PasswordHasher
    # Outbound HTTP (timeouts, X-Request-ID passed on); pooled for the app's lifetime.
    http_client: httpx.AsyncClient
    redis: "Redis | None" = None
    cache: CacheBackend | None = None  # None when settings.cache.enabled is false
    extras: dict[str, Any] = field(default_factory=dict)


def app_state(app: Any) -> AppState:
    state: AppState | None = getattr(app.state, "apiforge", None)
    if state is None:
        raise RuntimeError("the app's lifespan has not run (use LifespanManager in tests)")
    return state


def _redis_client(settings: Settings) -> "Redis":
    from redis.asyncio import Redis  # optional extra: imported only when configured

    return Redis.from_url(
        settings.redis_url or "",
        socket_timeout=settings.redis.socket_timeout,
        socket_connect_timeout=settings.redis.connect_timeout,
        health_check_interval=30,
    )


def build_lifespan(
    settings: Settings,
    on_startup: list[StartupHook] | None = None,
    resources: list[LifespanResource] | None = None,
) -> Callable[[FastAPI], Any]:
    """`resources` is read when the app starts, so it may be filled after this call."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_url(settings.database_url, settings.db)
        redis = _redis_client(settings) if settings.redis_url else None
        cache = (
            build_cache(settings.cache, redis, timeout=settings.redis.socket_timeout)
            if settings.cache.enabled
            else None
        )
        state = AppState(
            settings=settings,
            database=database,
            tokens=AccessTokenCodec(settings.auth, settings.signing_key),
            passwords=PasswordHasher(settings.auth),
            http_client=build_http_client(),
            redis=redis,
            cache=cache,
        )
        app.state.apiforge = state
        try:
            async with AsyncExitStack() as stack:
                if cache is not None:
                    await cache.start()
                for resource in resources or ():
                    await stack.enter_async_context(resource(state))
                for hook in on_startup or ():
                    await hook(state)
                yield
        finally:
            if cache is not None:
                await cache.aclose()
            await state.http_client.aclose()
            if redis is not None:
                await redis.aclose()
            await database.dispose()
            app.state.apiforge = None

    return lifespan
