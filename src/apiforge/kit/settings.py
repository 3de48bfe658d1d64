"""Typed settings read from the environment (APIFORGE_*) and `.env`.

The only module that reads the environment. Each component receives its own section;
nothing builds a module-level `Settings()`.
"""

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A key everybody can read in this file: accepted in development and test so that
# `make run` needs no set-up, refused in production.
DEVELOPMENT_SECRET_KEY = "apiforge-development-secret-key-do-not-use-in-production"  # noqa: S105  # public by design; refused in production
MIN_SECRET_KEY_BYTES = 32
_DIGEST_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# OWASP's equivalent argon2id minimums as (memory KiB, time cost); any one of them will do.
OWASP_ARGON2_MINIMUMS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    """Pool and timeouts. A fixed pool (no overflow) measured best under load: overflow
    connections are opened and closed per burst, and the churn costs more than waiting."""

    pool_size: int = Field(default=20, ge=1, le=500)
    max_overflow: int = Field(default=0, ge=0, le=500)
    pool_timeout: float = Field(default=5.0, gt=0, le=120)
    pool_recycle: int = Field(default=1800, ge=-1)
    pool_pre_ping: bool = False
    statement_timeout_ms: int = Field(default=5000, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    echo: bool = False


class RedisSettings(BaseModel):
    socket_timeout: float = Field(default=1.0, gt=0)
    connect_timeout: float = Field(default=1.0, gt=0)


class AuthSettings(BaseModel):
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    issuer: str = "apiforge"
    audience: str = "apiforge-api"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    # OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = Field(default=19456, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)


class HealthSettings(BaseModel):
    check_timeout_seconds: float = Field(default=2.0, gt=0, le=30)


class CacheSettings(BaseModel):
    """The application cache. With `APIFORGE_REDIS_URL` it is two-level (a short in-process
    L1 over Redis, kept coherent by pub/sub on `channel`); without, in-process only. The L1
    TTL is how stale another process's L1 can be if it misses an invalidation message."""

    enabled: bool = True
    l1_max_entries: int = Field(default=10_000, ge=1)
    l1_ttl_seconds: float = Field(default=5.0, gt=0, le=3600)
    default_ttl_seconds: float = Field(default=60.0, gt=0)
    key_prefix: str = Field(default="apiforge:cache:", min_length=1)
    # Pub/sub channels ignore Redis's logical databases: give each deployment its own.
    channel: str = Field(default="apiforge:cache:invalidations", min_length=1)


class MetricsSettings(BaseModel):
    """Prometheus metrics. Collection is on by default (its cost is in BENCHMARKS.md). The
    endpoint is never public by accident: on the main port it is served outside production,
    and in production only with `expose=true`; with `port` set, `apiforge serve` serves the
    aggregate of all workers on that separate port instead (the one to give Prometheus)."""

    enabled: bool = True
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
    None: on outside production; production needs an explicit true."""

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


class Settings(BaseSettings):
    """All of apiforge's configuration. Production is the default: secure unless told otherwise."""

    model_config = SettingsConfigDict(
        env_prefix="APIFORGE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    environment: Environment = Environment.PRODUCTION
    secret_key: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./apiforge.db"
    redis_url: str | None = None
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Our access log (one JSON line per request, with route template and timing).
    access_log: bool = True
    # None: docs on outside production. Production serves them only when set to true.
    expose_docs: bool | None = None
    demo_password: SecretStr = SecretStr("apiforge-demo")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    health: HealthSettings = HealthSettings()
    cache: CacheSettings = CacheSettings()
    metrics: MetricsSettings = MetricsSettings()
    tracing: TracingSettings = TracingSettings()
    loop_lag: LoopLagSettings = LoopLagSettings()
    profiling: ProfilingSettings = ProfilingSettings()
    server: ServerSettings = ServerSettings()

    @model_validator(mode="after")
    def _secure_defaults(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            self._check_production()
        elif self.secret_key is None:
            self.secret_key = SecretStr(DEVELOPMENT_SECRET_KEY)
        if (
            self.environment is Environment.TEST
            and "argon2_memory_kib" not in self.auth.model_fields_set
        ):
            # Cheap hashing keeps the suite fast; the algorithm and code path stay the same.
            self.auth = self.auth.model_copy(
                update={"argon2_memory_kib": 64, "argon2_time_cost": 1, "argon2_parallelism": 1}
            )
        return self

    def _check_production(self) -> None:
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if not key or key == DEVELOPMENT_SECRET_KEY:
            raise ValueError(
                "APIFORGE_SECRET_KEY must be set to a random value in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        # An HMAC key shorter than the digest weakens it (RFC 7518 section 3.2).
        needed = max(MIN_SECRET_KEY_BYTES, _DIGEST_BYTES[self.auth.algorithm])
        if len(key.encode()) < needed:
            raise ValueError(
                f"APIFORGE_SECRET_KEY must be at least {needed} bytes in production "
                f"with {self.auth.algorithm}"
            )
        auth = self.auth
        if not any(
            auth.argon2_memory_kib >= memory and auth.argon2_time_cost >= time_cost
            for memory, time_cost in OWASP_ARGON2_MINIMUMS
        ):
            raise ValueError(
                "argon2 parameters below OWASP's minimum (e.g. m=19456 KiB with t=2) are "
                "refused in production"
            )

    @property
    def docs_enabled(self) -> bool:
        if self.expose_docs is None:
            return self.environment is not Environment.PRODUCTION
        return self.expose_docs

    @property
    def metrics_on_main_port(self) -> bool:
        if not self.metrics.enabled:
            return False
        if self.metrics.expose is None:
            return self.environment is not Environment.PRODUCTION and self.metrics.port is None
        return self.metrics.expose

    @property
    def profiling_enabled(self) -> bool:
        if self.profiling.enabled is None:
            return self.environment is not Environment.PRODUCTION
        return self.profiling.enabled

    @property
    def signing_key(self) -> str:
        if self.secret_key is None:  # the validator always sets it; guard for type narrowing
            raise RuntimeError("secret key missing")
        return self.secret_key.get_secret_value()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
