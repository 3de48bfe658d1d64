"""Production-readiness findings for a configuration: settings that are fine in development and
wrong in production, and the connection arithmetic of workers x pods x pool against the
database's limit read live. Not for: refusing to start (the Settings validator does that)."""

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from apiforge.kit.db.capacity import ConnectionLimits, read_connection_limits, role_bypasses_rls
from apiforge.kit.db.engine import create_engine
from apiforge.kit.settings import (
    DEVELOPMENT_SECRET_KEY,
    MIN_SECRET_KEY_BYTES,
    Environment,
    Settings,
)

# Connections kept free beyond the pools: a migration job, an operator's psql, a monitoring
# exporter. Pools that fill max_connections to the last slot lock those out.
DEFAULT_HEADROOM = 5


class Severity(StrEnum):
    """How bad a finding is: an error fails `apiforge check` (exit 1)."""

    ERROR = "error"
    WARNING = "warning"
    OK = "ok"


@dataclass(frozen=True)
class Finding:
    """One line of `apiforge check`: its severity, what was checked, and what was found."""

    severity: Severity
    topic: str
    message: str


@dataclass(frozen=True)
class Deployment:
    """The shape the configuration will run in: processes per pod and pods at most (during a
    rolling update that is the HPA's maximum plus the surge)."""

    workers: int
    pods: int = 1
    headroom: int = DEFAULT_HEADROOM

    @property
    def processes(self) -> int:
        return self.workers * self.pods


def _production_only(settings: Settings, topic: str, problem: str | None, fine: str) -> Finding:
    """A warning in production when `problem` is set; otherwise ok."""
    if problem is not None and settings.environment is Environment.PRODUCTION:
        return Finding(Severity.WARNING, topic, problem)
    return Finding(Severity.OK, topic, fine if problem is None else f"{fine} (not production)")


def _environment(settings: Settings) -> Finding:
    if settings.environment is Environment.PRODUCTION:
        return Finding(Severity.OK, "environment", "production")
    return Finding(
        Severity.WARNING,
        "environment",
        f"{settings.environment.value}: docs, metrics and profiling open and the public "
        f"development key accepted; set {settings.env_name('environment')}=production",
    )


def _secret_key(settings: Settings) -> Finding:
    key = settings.signing_key
    if key == DEVELOPMENT_SECRET_KEY:
        return Finding(Severity.WARNING, "secret key", "the public development key signs tokens")
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return Finding(
            Severity.WARNING,
            "secret key",
            f"{len(key.encode())} bytes; production needs at least {MIN_SECRET_KEY_BYTES}",
        )
    return Finding(Severity.OK, "secret key", f"set, {len(key.encode())} bytes")


def _debug(settings: Settings) -> Finding:
    problems = []
    if settings.log_level == "DEBUG":
        problems.append("log level DEBUG")
    if settings.db.echo:
        problems.append("SQL echo on (db.echo: statements and their parameters in the log)")
    problem = "; ".join(problems) if problems else None
    return _production_only(settings, "debug", problem, f"log level {settings.log_level}")


def _docs(settings: Settings) -> Finding:
    problem = "public at /docs and /openapi.json" if settings.docs_enabled else None
    return _production_only(settings, "api docs", problem, "on" if problem else "off")


def _metrics(settings: Settings) -> Finding:
    metrics = settings.metrics
    if not metrics.enabled:
        return _production_only(settings, "metrics", "collection off: no RED metrics", "off")
    if settings.metrics_on_main_port:
        problem = (
            f"served on the main port at {metrics.path}: whoever reaches the API reads them; "
            f"set {settings.env_name('metrics.port')} and scrape that port"
        )
        return _production_only(settings, "metrics", problem, f"on the main port at {metrics.path}")
    if metrics.port is not None:
        return Finding(Severity.OK, "metrics", f"port {metrics.port}, summed over the workers")
    return Finding(Severity.OK, "metrics", "collected, not exposed")


def _profiling(settings: Settings) -> Finding:
    problem = (
        f"on: role {settings.profiling.admin_role!r} can profile any request"
        if settings.profiling_enabled
        else None
    )
    return _production_only(settings, "profiling", problem, "on" if problem else "off")


def _tracing(settings: Settings) -> Finding:
    tracing = settings.tracing
    if not tracing.enabled:
        return Finding(Severity.OK, "tracing", "off")
    problems = []
    if tracing.sample_ratio >= 1.0:
        problems.append("every new trace sampled (sample_ratio 1.0): 0.01-0.1 is usual")
    if tracing.exporter == "console":
        problems.append("console exporter: spans written to stdout")
    fine = f"{tracing.exporter} to {tracing.otlp_endpoint}, sample ratio {tracing.sample_ratio}"
    return _production_only(settings, "tracing", "; ".join(problems) or None, fine)


def _shared_state(settings: Settings, deployment: Deployment) -> Finding:
    if settings.redis_url is not None:
        return Finding(Severity.OK, "redis", "cache and rate limits shared by every process")
    if deployment.processes == 1:
        return Finding(Severity.OK, "redis", "none; one process keeps its cache in memory")
    return Finding(
        Severity.WARNING,
        "redis",
        f"none with {deployment.processes} processes: each has its own cache, and a write "
        "invalidates only its own process's cache (the others serve "
        f"stale reads for up to {settings.cache.default_ttl_seconds:g} s)"
        + ("; each counts rate limits on its own" if settings.ratelimit.enabled else "")
        + f"; set {settings.env_name('redis_url')}",
    )


def _rate_limits(settings: Settings) -> Finding:
    proxy = settings.proxy
    if proxy.trusted_hops:
        client = f"the address {proxy.trusted_hops} trusted hop(s) put in {proxy.header}"
    elif proxy.trusted_cidrs:
        client = f"{proxy.header} through {len(proxy.trusted_cidrs)} trusted range(s)"
    else:
        client = (
            "the socket peer (behind a proxy, set "
            f"{settings.env_name('proxy.trusted_hops')} or every client shares its address)"
        )
    off = None
    if not settings.ratelimit.enabled:
        off = (
            f"off ({settings.env_name('ratelimit.enabled')}=false): sign-in guesses and "
            "writes are not limited"
        )
    return _production_only(settings, "rate limits", off, f"on; the client is {client}")


def _shutdown(settings: Settings) -> Finding:
    drain = settings.server.drain_timeout_seconds
    return Finding(
        Severity.OK,
        "shutdown",
        f"SIGTERM drains requests for up to {drain:g} s; give Kubernetes "
        f"terminationGracePeriodSeconds >= preStop pause + {drain:g} s + a few seconds",
    )


def settings_findings(settings: Settings, deployment: Deployment) -> list[Finding]:
    """Everything that can be told from the settings alone."""
    return [
        _environment(settings),
        _secret_key(settings),
        _debug(settings),
        _docs(settings),
        _metrics(settings),
        _profiling(settings),
        _tracing(settings),
        _shared_state(settings, deployment),
        _rate_limits(settings),
        _shutdown(settings),
    ]


def sqlite_finding(settings: Settings, deployment: Deployment) -> Finding:
    if deployment.pods > 1:
        return Finding(
            Severity.ERROR,
            "database",
            f"SQLite with {deployment.pods} pods: pods cannot share one database file; "
            "use PostgreSQL",
        )
    if deployment.workers > 1:
        return Finding(
            Severity.WARNING,
            "database",
            f"SQLite with {deployment.workers} workers: they share one file with one writer at "
            f"a time (a write waits up to {settings.db.sqlite_busy_timeout_ms} ms for the "
            "lock); use PostgreSQL past one process",
        )
    return Finding(Severity.OK, "database", "SQLite, one process")


def pool_finding(settings: Settings, deployment: Deployment, limits: ConnectionLimits) -> Finding:
    """The rule: workers x pods x (pool_size + max_overflow) <= max_connections
    - superuser_reserved_connections - reserved_connections - headroom."""
    db = settings.db
    per_process = db.pool_size + db.max_overflow
    demand = deployment.processes * per_process
    budget = limits.for_applications - deployment.headroom
    reserved = f" - reserved_connections {limits.reserved}" if limits.reserved else ""
    arithmetic = (
        f"{deployment.workers} workers x {deployment.pods} pods x ({db.pool_size} pool + "
        f"{db.max_overflow} overflow) = {demand} connections; the database takes {budget} "
        f"(max_connections {limits.max_connections} - superuser_reserved_connections "
        f"{limits.superuser_reserved}{reserved} - headroom {deployment.headroom}); open now: "
        f"{limits.application_connections} {settings.service_name}, "
        f"{limits.other_connections} other"
    )
    if demand > budget:
        fits = budget // deployment.processes
        advice = (
            f"pool_size + max_overflow <= {fits} per process, or fewer processes"
            if fits > 0
            else "too many processes for this database: fewer, or a pooler such as PgBouncer"
        )
        return Finding(Severity.ERROR, "database", f"{arithmetic}. Fix: {advice}")
    if demand + limits.other_connections > budget:
        return Finding(
            Severity.WARNING,
            "database",
            f"{arithmetic}. Fits, but not with the other clients' connections open now",
        )
    return Finding(Severity.OK, "database", arithmetic)


async def database_findings(settings: Settings, deployment: Deployment) -> list[Finding]:
    """Reads the limits (and, with row-level security on, whether the role is subject to it)
    over one connection; an unreachable database is an error finding."""
    if settings.is_sqlite:
        return [sqlite_finding(settings, deployment), *_rls_on_sqlite(settings)]
    engine = create_engine(
        settings.database_url,
        settings.db.model_copy(update={"pool_size": 1, "max_overflow": 0}),
        application_name=f"{settings.service_name}-check",
    )
    try:
        async with asyncio.timeout(settings.db.pool_timeout + 5), engine.connect() as connection:
            limits = await read_connection_limits(
                connection, application_name=settings.service_name
            )
            bypasses = await role_bypasses_rls(connection)
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        return [_unreachable(settings, exc)]
    finally:
        await engine.dispose()
    findings = [pool_finding(settings, deployment, limits)]
    if settings.db.row_level_security:
        findings.append(_rls_finding(settings, bypasses))
    return findings


def _rls_on_sqlite(settings: Settings) -> list[Finding]:
    if not settings.db.row_level_security:
        return []
    problem = "on, but SQLite has no row-level security: only the statement scoping applies"
    return [Finding(Severity.WARNING, "row-level security", problem)]


def _rls_finding(settings: Settings, bypasses: bool) -> Finding:
    if bypasses:
        return Finding(
            Severity.ERROR,
            "row-level security",
            "on, but the database role is a superuser or has BYPASSRLS, so every policy is "
            "skipped. Fix: connect as a role without them (the migrations may keep an owner "
            "role of their own)",
        )
    return Finding(Severity.OK, "row-level security", "on; the role is subject to the policies")


def _unreachable(settings: Settings, exc: BaseException) -> Finding:
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    return Finding(
        Severity.ERROR,
        "database",
        f"cannot read the limits of {where}: {type(exc).__name__}: {exc}",
    )


async def production_findings(settings: Settings, deployment: Deployment) -> list[Finding]:
    """Every finding for `settings` run as `deployment`: the settings' own, then the
    database's (its connection limit read live; unreachable is an error finding)."""
    return [
        *settings_findings(settings, deployment),
        *await database_findings(settings, deployment),
    ]
