"""`create_app(settings, routers=...)`: the FastAPI factory every apiforge service starts from.
It wires settings, lifespan, middleware, problem+json errors, health probes and offline docs.
Not for: routes of a service (pass them in)."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from apiforge.kit.access_log import AccessLog
from apiforge.kit.asgi import Scope
from apiforge.kit.cache import CacheStats
from apiforge.kit.cache.front import FrontCache
from apiforge.kit.db.migrations import Migrations
from apiforge.kit.docs import install_docs
from apiforge.kit.health import health_router
from apiforge.kit.heap import freeze_startup_heap
from apiforge.kit.idempotency import IdempotentReplay, answer_replay
from apiforge.kit.identity import IdentityStoreFactory
from apiforge.kit.identity.router import jwks_router
from apiforge.kit.jobs import JobRegistry, jobs_resource
from apiforge.kit.lifespan import build_lifespan
from apiforge.kit.logs import configure_logging
from apiforge.kit.looplag import LoopLagMonitor
from apiforge.kit.mail import mail_resource
from apiforge.kit.metrics import install_metrics
from apiforge.kit.metrics.registry import AppMetrics
from apiforge.kit.middleware import install_middleware
from apiforge.kit.middleware.telemetry import RequestObserver
from apiforge.kit.openapi import install_openapi
from apiforge.kit.problems import install_problem_handlers
from apiforge.kit.ratelimit import RateLimiter
from apiforge.kit.rates import RateLimitPolicy
from apiforge.kit.settings import Settings
from apiforge.kit.startup import check_extras, check_rate_limits, check_signing_keys
from apiforge.kit.state import AppConfig, LifespanResource, StartupHook, set_app_config


def create_app(
    settings: Settings,
    *,
    routers: Sequence[APIRouter] = (),
    title: str | None = None,
    version: str = "0.1.0",
    description: str = "",
    migrations: Migrations | Path | None = None,
    on_startup: Sequence[StartupHook] = (),
    body_limits: Mapping[str, int] | None = None,
    front_cache: FrontCache | None = None,
    identity_store: IdentityStoreFactory | None = None,
    idempotency_keys: type[Any] | None = None,
    rate_limits: Sequence[RateLimitPolicy] = (),
    lifespan_resources: Sequence[LifespanResource] = (),
    jobs: JobRegistry | None = None,
    dead_jobs: type[Any] | None = None,
    mail: bool = False,
) -> FastAPI:
    """A FastAPI app with the kit around the service's routers.

    - `settings`: the service's `Settings` (a subclass with its own sections is fine).
    - `routers`: the service's routes, included after `/health/live` and `/health/ready`.
    - `title`, `version`, `description`: the OpenAPI document's (title: the service name).
      `version` is also the `version` label of the `<namespace>_build_info` metric.
    - `migrations`: the service's Alembic directory (or `Migrations`): `/health/ready`
      answers 503 "migrations" while the database is behind, and `apiforge db ...` finds
      them through `app_config(app)`.
    - `on_startup`: `async (AppState) -> None` hooks awaited once the state is built.
    - `body_limits`: exact paths allowed another body size than `settings.max_body_bytes`.
    - `front_cache`: GET path prefixes whose cached answers are served before routing.
    - `identity_store`: `(Database) -> IdentityStore`, the service's answers about its users,
      API keys, tenant members and external identities (token revocation needs it); without
      one, tokens are checked by signature and claims alone.
    - `idempotency_keys`: the service's mapped `IdempotencyKeyMixin` class, for the routes
      that declare `Idempotent` (without it, they run as if no key was sent).
    - `rate_limits`: every `RateLimitPolicy` the service enforces (with `rate_limit(...)` or
      `RequestThrottle`), so `APIFORGE_RATELIMIT__POLICIES__<NAME>__...` can adjust them;
      settings naming any other policy stop the start.
    - `lifespan_resources`: the service's process-long companions (`(AppState) -> async
      context manager`), entered after the kit's own, e.g. `embedded_relay(OutboxEvent)`.
    - `jobs`: the service's `JobRegistry`; the app then runs a `JobQueue` (`app_state(app).jobs`,
      the `Jobs` dependency) and `apiforge worker` / `apiforge scheduler` can run it.
      `dead_jobs`: the service's mapped `DeadJobMixin` class, where jobs that used up their
      attempts are kept (`apiforge jobs failed|retry`).
    - `mail`: the service sends mail: `app_state(app).mailer` (and the development sink).

    Raises `StartupError` (one readable line) when a feature is on without its extra, or
    the signing keys cannot sign the configured algorithm, or the settings adjust a rate
    limit the service does not declare.
    """
    check_extras(settings)
    check_signing_keys(settings)
    check_rate_limits(settings, rate_limits)
    configure_logging(settings)
    docs = settings.docs_enabled
    # Filled below by the observability parts; entered when the app starts.
    resources: list[LifespanResource] = []
    app = FastAPI(
        title=title or settings.service_name,
        version=version,
        description=description,
        # The heap is frozen last, after the service's own start-up work.
        lifespan=build_lifespan(
            settings, [*on_startup, freeze_startup_heap], resources, identity_store
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        # FastAPI's native OpenTelemetry checks the global providers on every request; the kit
        # traces with OpenTelemetry's ASGI middleware instead, per app, from its own settings
        # (why: kit/tracing/middleware.py).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    app.add_exception_handler(IdempotentReplay, answer_replay)
    # Requests running now (filled by the telemetry middleware) and the front cache's counters,
    # read by the metrics sampler and the loop-lag monitor.
    in_flight: dict[int, Scope] = {}
    observers: list[RequestObserver] = []
    if settings.access_log:
        access_log = AccessLog(hit_lines_per_second=settings.access_log_hit_lines_per_second)
        observers.append(access_log)
        resources.append(access_log.running)
    front_stats = CacheStats("front")
    metrics = install_metrics(
        app,
        settings,
        version=version,
        in_flight=in_flight,
        front=front_stats,
        observers=observers,
        resources=resources,
    )
    if settings.loop_lag.enabled:
        lag = metrics.loop_lag.observe if metrics else None
        monitor = LoopLagMonitor(settings.loop_lag, in_flight=in_flight, observe=lag)
        observers.append(monitor)
        resources.append(monitor.running)
    limiter = RateLimiter(settings.ratelimit, rate_limits) if settings.ratelimit.enabled else None
    if limiter is not None:
        resources.append(limiter.running)
    install_middleware(
        app,
        settings,
        body_limits=body_limits,
        front_cache=front_cache,
        observers=observers,
        in_flight=in_flight,
        front_stats=front_stats,
        rate_limit_headers=limiter is not None,
    )
    if settings.tracing.enabled:
        # Imported only when on (the `tracing` extra). Added last, so it is the outermost layer.
        from apiforge.kit.tracing import install_tracing

        resources.append(install_tracing(app, settings, version=version))
    _add_work_after_requests(resources, jobs, dead_jobs, mail=mail, metrics=metrics)
    resources.extend(lifespan_resources)
    app.include_router(health_router)
    if not settings.auth.is_symmetric:
        app.include_router(jwks_router)
    for router in routers:
        app.include_router(router)
    install_openapi(app, token_url=settings.auth.token_url, routers=routers)
    if docs:
        install_docs(app)
    if isinstance(migrations, Path):
        migrations = Migrations(migrations)
    set_app_config(
        app,
        AppConfig(
            settings=settings,
            migrations=migrations,
            metrics=metrics,
            identity_store=identity_store,
            idempotency_keys=idempotency_keys,
            jobs=jobs,
            dead_jobs=dead_jobs,
        ),
    )
    return app


def _add_work_after_requests(
    resources: list[LifespanResource],
    jobs: JobRegistry | None,
    dead_jobs: type[Any] | None,
    *,
    mail: bool,
    metrics: AppMetrics | None,
) -> None:
    if mail:
        resources.append(mail_resource)
    if jobs is not None:
        # Last: closed first, so in-process jobs still running finish with every resource open.
        # In multiprocess mode prometheus_client writes every value to the shared files the
        # scrape aggregates, so the queue's metrics need no registry of the app's.
        shared = metrics.registry if metrics and not metrics.multiprocess else None
        resources.append(jobs_resource(jobs, dead_jobs, shared))
