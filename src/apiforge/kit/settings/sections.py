"""The settings sections a service's `Settings` nests (`APIFORGE_DB__POOL_SIZE` sets
`db.pool_size`): one small model per component, each given only its own. Not for: reading the
environment (the `Settings` class does) or the auth section (kit.settings.auth)."""

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator


class DatabaseSettings(BaseModel):
    """Pool and timeouts. A fixed pool (no overflow) measured best under load: overflow
    connections are opened and closed per burst, and the churn costs more than waiting."""

    pool_size: int = Field(default=20, ge=1, le=500)
    max_overflow: int = Field(default=0, ge=0, le=500)
    pool_timeout: float = Field(default=5.0, gt=0, le=120)
    pool_recycle: int = Field(default=1800, ge=-1)
    pool_pre_ping: bool = False
    statement_timeout_ms: int = Field(default=5000, ge=0)
    # PostgreSQL: how long a statement waits for a row or table lock before it fails (409):
    # a row held by a stuck session must not pin a pooled connection per waiting request.
    lock_timeout_ms: int = Field(default=2000, ge=0)
    # PostgreSQL: the client's own ceiling on every statement, for a server that cannot answer
    # at all (frozen, or partitioned away), which no server-side timeout can cut. Off by
    # default: it would also cut statements run with the statement timeout lifted on purpose.
    client_timeout_seconds: float | None = Field(default=None, gt=0, le=3600)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    echo: bool = False
    # PostgreSQL Row-Level Security as defence in depth for tenant-owned tables: each
    # transaction bound to a tenant sets `apiforge.tenant_id` for the policies (kit.tenancy).
    # The connecting role must not be a superuser (superusers bypass every policy).
    row_level_security: bool = False


class RedisSettings(BaseModel):
    """Client timeouts (seconds): every Redis call is bounded, so a slow Redis is a miss; after
    `breaker_failures` failed calls in a row the cache stops calling it for
    `breaker_cooldown_seconds`, then probes. `required`: whether `/health/ready` fails while
    Redis does (false: Redis is only a cache, and its failure is reported as degraded)."""

    # A cache call that takes longer than this costs more than the database read it saves.
    socket_timeout: float = Field(default=0.5, gt=0)
    connect_timeout: float = Field(default=0.5, gt=0)
    breaker_failures: int = Field(default=3, ge=1)
    breaker_cooldown_seconds: float = Field(default=2.0, gt=0, le=300)
    required: bool = False


class IdempotencySettings(BaseModel):
    """`Idempotency-Key` on the routes that opt in (kit.idempotency). `required`: a request
    without a key is 400 instead of running unprotected. `lease_seconds`: how long a claimed
    key stays "in progress" before a request that died holding it can be retried.
    `ttl_seconds`: how long a completed answer is replayed (`apiforge db prune` sweeps older
    keys)."""

    required: bool = False
    lease_seconds: float = Field(default=60.0, gt=0, le=60)
    ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)


class CorsSettings(BaseModel):
    """Cross-origin requests from browsers: none allowed unless origins are listed here
    (exact origins, `https://app.example.com`; `*` only without credentials)."""

    allow_origins: list[str] = Field(default_factory=list)
    allow_credentials: bool = False
    max_age_seconds: int = Field(default=600, ge=0, le=86400)

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> Self:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError("cors: credentials need explicit origins, not *")
        return self


class HealthSettings(BaseModel):
    """Readiness probes: each check gets this long before it counts as failed."""

    check_timeout_seconds: float = Field(default=2.0, gt=0, le=30)


class CacheSettings(BaseModel):
    """The application cache. With `APIFORGE_REDIS_URL` it is two-level (a short in-process
    L1 over Redis, kept coherent by pub/sub on `channel`); without, in-process only. The L1
    TTL is how stale another process's L1 can be if it misses an invalidation message."""

    enabled: bool = True
    l1_max_entries: int = Field(default=10_000, ge=1)
    l1_ttl_seconds: float = Field(default=5.0, gt=0, le=3600)
    default_ttl_seconds: float = Field(default=60.0, gt=0)
    # With Redis: a key is read from and written to Redis only from its n-th miss in a process
    # on (earlier misses load into the L1 alone), so a key read once costs no more than with
    # no cache at all. 1 (every miss): 2 measured no better under a busy machine's noise
    # (BENCHMARKS.md, "A cache must never make a read slower").
    l2_after_misses: int = Field(default=1, ge=1, le=100)
    # Default from the service name: `<name>:cache:` and `<name>:cache:invalidations`.
    key_prefix: str = Field(default="apiforge:cache:", min_length=1)
    # Pub/sub channels ignore Redis's logical databases: give each deployment its own.
    channel: str = Field(default="apiforge:cache:invalidations", min_length=1)


class MetricsSettings(BaseModel):
    """Prometheus metrics. Collection is on by default (its cost is in BENCHMARKS.md). The
    endpoint is never public by accident: on the main port it is served outside production,
    and in production only with `expose=true`; with `port` set, `apiforge serve` serves the
    aggregate of all workers on that separate port instead (the one to give Prometheus)."""

    enabled: bool = True
    # The metric names' prefix (`<namespace>_http_requests_total`); default: the service name.
    namespace: str = Field(default="apiforge", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    # None: on the main port outside production; production needs an explicit true.
    expose: bool | None = None
    path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9_./-]*$")
    port: int | None = Field(default=None, ge=1, le=65535)
    # Where worker processes share their samples (prometheus-client multiprocess mode); the
    # CLI picks a fresh temporary directory when unset.
    multiproc_dir: str | None = None


class TracingSettings(BaseModel):
    """OpenTelemetry (the `tracing` extra). Off by default; when on, requests, SQL, Redis and
    outbound HTTP are traced and exported by OTLP/HTTP, and log lines carry the trace ID."""

    enabled: bool = False
    # Default: the service name.
    service_name: str = Field(default="apiforge", min_length=1)
    exporter: Literal["otlp", "console"] = "otlp"
    # The collector's base URL; the exporter appends /v1/traces.
    otlp_endpoint: str = "http://127.0.0.1:4318"
    # Head sampling of new traces; a sampled parent (traceparent) is always followed.
    sample_ratio: float = Field(default=0.1, ge=0.0, le=1.0)


class LoopLagSettings(BaseModel):
    """The event-loop lag monitor: a task that sleeps `interval_seconds` and measures how late
    it wakes. Lag above `warn_seconds` logs a warning naming the requests in flight."""

    enabled: bool = True
    interval_seconds: float = Field(default=0.25, gt=0, le=60)
    warn_seconds: float = Field(default=0.1, gt=0)


class ProfilingSettings(BaseModel):
    """On-demand pyinstrument profile of one request (the `profiling` extra), for admins only.
    None: on outside production when pyinstrument is installed; production needs an explicit
    true (and true without pyinstrument refuses to start)."""

    enabled: bool | None = None
    admin_role: str = "admin"


class ServerSettings(BaseModel):
    """How `apiforge serve` and deploy/gunicorn.conf.py run the app. The rule for `workers`
    (workers x pods x (db.pool_size + db.max_overflow) must stay under the database's
    max_connections less its reserved slots) is printed by `apiforge check`."""

    # Loopback by default: a container or VM binds 0.0.0.0 on purpose.
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # SIGTERM: stop accepting, let requests in flight finish for up to this long, then close.
    drain_timeout_seconds: float = Field(default=20.0, ge=0, le=600)
    keepalive_seconds: float = Field(default=5.0, gt=0, le=300)
    # A worker silent for this long is killed and replaced: under Gunicorn, its event loop has
    # not ticked; under `apiforge serve`, it has not answered the supervisor's ping (from a
    # thread, so a start-up slowed by a busy machine counts, a blocked loop does not).
    worker_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Which server runs the workers: Granian (Rust, hyper) or Uvicorn (uvloop, httptools).
    # Uvicorn by default: Granian always names itself in `Server` (no setting turns it off),
    # cannot cancel a request past the drain, and one 2-worker SIGTERM run in 42 left a worker
    # refusing to stop (README "Serving", RELIABILITY.md); it passes every other test.
    backend: Literal["uvicorn", "granian"] = "uvicorn"
    # From a connection's first byte (or a kept-alive connection's next request) to the end of
    # its headers: past it the connection is closed (a slowloris client holds nothing). Granian
    # has this itself; under Uvicorn the kit's protocol adds it (kit/serving/header_deadline.py).
    # Granian counts a kept-alive connection's idle time in: there it is also the keep-alive
    # bound (keepalive_seconds is Uvicorn's and Gunicorn's).
    header_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Granian: requests a worker handles at once before it stops accepting (the kernel's backlog
    # holds the rest); None: Granian's own (backlog / workers). Under Uvicorn the kit sets no
    # limit: Uvicorn's limit_concurrency counts open connections, so idle or slow clients would
    # fill it and every other request would get 503.
    backpressure: int | None = Field(default=None, ge=1, le=100_000)
