"""The app's typed state, at the bottom of the kit's layers: what `create_app` was given
(`AppConfig`) and what the lifespan built (`AppState`), reachable from any layer (middleware,
dependencies, probes) through `app_config` and `app_state`. Not for: building any of it."""

import typing
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: this module sits below everything it describes
    import httpx
    from opentelemetry.sdk.trace import TracerProvider
    from redis.asyncio import Redis

    from apiforge.kit.auth.passwords import PasswordHasher
    from apiforge.kit.auth.tokens import AccessTokenCodec
    from apiforge.kit.cache.protocol import CacheBackend
    from apiforge.kit.db.database import Database
    from apiforge.kit.db.migrations import Migrations
    from apiforge.kit.identity import Identity, IdentityStoreFactory
    from apiforge.kit.jobs import JobQueue, JobRegistry
    from apiforge.kit.mail import Mailer
    from apiforge.kit.metrics.registry import AppMetrics
    from apiforge.kit.ratelimit import RateLimiter
    from apiforge.kit.settings import Settings

_STATE = "apiforge"
_CONFIG = "apiforge_config"


@dataclass
class AppState:
    """The running app's long-lived resources, built by its lifespan and closed when it ends:
    reach them in a dependency with `app_state(request.app)`. `cache` is None when
    `settings.cache.enabled` is off; `redis` when no Redis URL is set; `tracer_provider` when
    tracing is off; `rate_limiter` when rate limits are off."""

    settings: "Settings"
    database: "Database"
    tokens: "AccessTokenCodec"
    passwords: "PasswordHasher"
    # Who a request's credential proves, from cached lookups (tokens, API keys, members).
    identity: "Identity"
    # Outbound HTTP (timeouts, X-Request-ID passed on); pooled for the app's lifetime.
    http_client: "httpx.AsyncClient"
    redis: "Redis | None" = None
    cache: "CacheBackend | None" = None
    tracer_provider: "TracerProvider | None" = None
    # The app's rate limiter while it runs; None when `settings.ratelimit.enabled` is off.
    rate_limiter: "RateLimiter | None" = None
    # Set by the readiness probe once the schema was seen at the migrations' head.
    schema_current: bool = False
    # The job queue while the app runs, when it declares jobs (`create_app(jobs=...)`).
    jobs: "JobQueue | None" = None
    # The mailer while the app runs, when it sends mail (`create_app(mail=True)`).
    mailer: "Mailer | None" = None


@dataclass(frozen=True)
class AppConfig:
    """What the app was built with, readable before it starts (the CLI reads the settings and
    the migrations of a service from its factory's app): `app_config(app)`."""

    settings: "Settings"
    migrations: "Migrations | None" = None
    metrics: "AppMetrics | None" = None
    identity_store: "IdentityStoreFactory | None" = None
    # The service's mapped IdempotencyKeyMixin class (kit.idempotency), if it opts in.
    idempotency_keys: type[Any] | None = None
    # The service's jobs and its mapped DeadJobMixin class (kit.jobs), if it has jobs.
    jobs: "JobRegistry | None" = None
    dead_jobs: type[Any] | None = None


# typing.Callable, not collections.abc's: only typing's alias takes a docstring of its own.
StartupHook = typing.Callable[[AppState], Awaitable[None]]
StartupHook.__doc__ = """`create_app(on_startup=[...])`: `async (AppState) -> None`, awaited
once the state is built, before the first request (warm a cache, open a client of the
service's own)."""

LifespanResource = typing.Callable[[AppState], AbstractAsyncContextManager[None]]
LifespanResource.__doc__ = """A process-long companion of the app (a metrics sampler, a tracer
provider): `(AppState) -> async context manager`, entered after the state is built, before the
startup hooks; exited in reverse order before the pools close."""


def app_state(app: Any) -> AppState:
    """The running app's `AppState`. Raises `RuntimeError` before its lifespan has started
    (in tests: run the app under `asgi_lifespan.LifespanManager`, or use the
    `apiforge.kit.testing` fixtures)."""
    state: AppState | None = getattr(app.state, _STATE, None)
    if state is None:
        raise RuntimeError("the app's lifespan has not run (use LifespanManager in tests)")
    return state


def current_state(app: Any) -> AppState | None:
    """The running app's state, or None before its lifespan started or after it ended (for
    middleware, which also sees requests of an app that is not running)."""
    state: AppState | None = getattr(app.state, _STATE, None)
    return state


def set_app_state(app: Any, state: AppState | None) -> None:
    setattr(app.state, _STATE, state)


def app_config(app: Any) -> AppConfig:
    """What `create_app` built `app` with. Raises `TypeError` for an app it did not build."""
    config: AppConfig | None = getattr(app.state, _CONFIG, None)
    if config is None:
        raise TypeError("not an app built by apiforge.kit.create_app")
    return config


def set_app_config(app: Any, config: AppConfig) -> None:
    setattr(app.state, _CONFIG, config)
