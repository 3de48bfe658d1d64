"""Typed settings read from the environment (`APIFORGE_*`, or a service's own prefix) and
`.env`: the only module that reads the environment. Each component receives its own section;
nothing builds a module-level `Settings()`. Not for: a service's own tunables (subclass
`Settings` with sections of your own)."""

import importlib.util
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from apiforge.kit.proxies import ProxySettings
from apiforge.kit.rates import RateLimitSettings

# A key everybody can read in this file: accepted in development and test so that
# `make run` needs no set-up, refused in production.
DEVELOPMENT_SECRET_KEY = "apiforge-development-secret-key-do-not-use-in-production"  # noqa: S105  # public by design; refused in production
MIN_SECRET_KEY_BYTES = 32
_DIGEST_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# OWASP's equivalent argon2id minimums as (memory KiB, time cost); any one of them will do.
OWASP_ARGON2_MINIMUMS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


# The drivers the kit runs on (both async); every other scheme is refused when settings load.
SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
_URL_FORMS = f"{SQLITE_DRIVER}:///./file.db or {POSTGRES_DRIVER}://user:password@host:5432/database"


def is_sqlite_url(url: str) -> bool:
    """True for the embedded database (the one test of it, used wherever it matters)."""
    return url.startswith("sqlite")


def _right_form(url: URL) -> str:
    """A message naming the driver a refused scheme should have been."""
    if url.drivername.startswith("postgres"):
        fixed = url.set(drivername=POSTGRES_DRIVER).render_as_string(hide_password=True)
        return f"PostgreSQL is reached through asyncpg: use {fixed}"
    if url.drivername.startswith("sqlite"):
        fixed = url.set(drivername=SQLITE_DRIVER).render_as_string(hide_password=True)
        return f"SQLite is reached through aiosqlite: use {fixed}"
    return f"the kit runs on SQLite or PostgreSQL: use {_URL_FORMS}"


def check_database_url(url: str) -> str:
    """`url` if it names a driver the kit runs on; else `ValueError` naming the right form."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL; use {_URL_FORMS}") from None
    if parsed.drivername not in (SQLITE_DRIVER, POSTGRES_DRIVER):
        raise ValueError(f"{parsed.drivername}:// is not supported: {_right_form(parsed)}")
    return url


class Environment(StrEnum):
    """Where the service runs: production (the default, secure unless told otherwise),
    development (`make run`: docs, metrics and profiling open, a public signing key
    accepted) or test (cheap password hashing)."""

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
    # PostgreSQL Row-Level Security as defence in depth for tenant-owned tables: each
    # transaction bound to a tenant sets `apiforge.tenant_id` for the policies (kit.tenancy).
    # The connecting role must not be a superuser (superusers bypass every policy).
    row_level_security: bool = False


class RedisSettings(BaseModel):
    """Client timeouts (seconds): every Redis call is bounded, so a slow Redis is a miss."""

    socket_timeout: float = Field(default=1.0, gt=0)
    connect_timeout: float = Field(default=1.0, gt=0)


ExternalAlgorithm = Literal["RS256", "ES256", "EdDSA"]


class ExternalIssuerSettings(BaseModel):
    """A trusted external identity provider whose access tokens the service accepts
    (resource-server mode). Keys come from its JWKS (`jwks_url`, by default
    `<issuer>/.well-known/jwks.json`), fetched with timeouts, cached, and fetched again on an
    unknown `kid` at most once per `auth.jwks_min_refresh_seconds`. Only asymmetric
    algorithms are accepted from it; `iss`, `aud`, `exp` and `sub` are required. The
    principal's role is the first of `roles` found in the `roles_claim`, else
    `default_role`."""

    issuer: str = Field(min_length=1, max_length=500)
    audience: str = Field(min_length=1, max_length=500)
    jwks_url: str | None = None
    algorithms: list[ExternalAlgorithm] = Field(
        default_factory=lambda: list[ExternalAlgorithm](["RS256"]), min_length=1
    )
    roles_claim: str = Field(default="roles", min_length=1)
    # Roles this issuer may grant, in order of preference; any other value in the claim is
    # ignored (an identity provider cannot invent a role the service does not know).
    roles: list[str] = Field(default_factory=list)
    default_role: str = Field(default="user", min_length=1)
    email_claim: str = Field(default="email", min_length=1)

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.issuer.rstrip('/')}/.well-known/jwks.json"


# Symmetric algorithms sign with the secret key; asymmetric ones with `auth.signing_keys`.
SYMMETRIC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


class AuthSettings(BaseModel):
    """Access tokens, refresh tokens, API keys, external issuers and password hashing.
    `issuer` and `audience` default from the service name (`<name>`, `<name>-api`).
    `token_url`: the service's OAuth2 password-flow endpoint, for the docs' Authorize button
    (None: a plain bearer field).

    Signing: HS256 with the secret key by default. With `EdDSA` or `ES256`, tokens are
    signed with the first of `signing_keys` (PEM private keys) and carry its `kid`; every
    key in the list still verifies (rotate by putting the new key first and dropping the old
    one once its tokens have expired), and `/.well-known/jwks.json` publishes the public
    keys so other services can verify without the secret."""

    algorithm: Literal["HS256", "HS384", "HS512", "EdDSA", "ES256"] = "HS256"
    signing_keys: list[SecretStr] = Field(default_factory=list)
    issuer: str = Field(default="apiforge", min_length=1)
    audience: str = Field(default="apiforge-api", min_length=1)
    token_url: str | None = None
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    # Clock skew tolerated on exp/nbf/iat, ours and external issuers' alike.
    leeway_seconds: int = Field(default=10, ge=0, le=300)
    # API keys look like `<prefix>_<id>_<secret>`: a prefix secret scanners can match.
    api_key_prefix: str = Field(default="afk", pattern=r"^[a-z]{2,8}$")
    # How long an identity lookup (token generation, API key, membership, external subject)
    # is kept in the shared cache; changes invalidate it at once in every worker.
    lookup_ttl_seconds: float = Field(default=60.0, gt=0, le=3600)
    external_issuers: list[ExternalIssuerSettings] = Field(default_factory=list)
    jwks_min_refresh_seconds: float = Field(default=60.0, ge=0, le=3600)
    jwks_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = Field(default=19456, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)

    @property
    def is_symmetric(self) -> bool:
        return self.algorithm in SYMMETRIC_ALGORITHMS

    @model_validator(mode="after")
    def _keys_for_the_algorithm(self) -> Self:
        if not self.is_symmetric and not self.signing_keys:
            raise ValueError(
                f"auth.algorithm {self.algorithm} signs with auth.signing_keys: give at least "
                "one PEM private key of that type (the first signs, all verify)"
            )
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


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class Settings(BaseSettings):
    """All of a service's configuration, read from `APIFORGE_*` variables (`__` nests a
    section: `APIFORGE_DB__POOL_SIZE=10`) and `.env`. Production is the default: secure
    unless told otherwise. A service subclasses it with its own name, prefix and sections::

        class NotesSettings(Settings, env_prefix="NOTES_"):
            service_name: str = "notes"
            notes: NotesSection = NotesSection()     # NOTES_NOTES__PAGE_SIZE=50

    The service name is the default of the JWT issuer and audience, the cache's key prefix
    and channel, the metrics namespace, the tracing service name and the database
    `application_name`.
    """

    model_config = SettingsConfigDict(
        env_prefix="APIFORGE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    service_name: str = Field(default="apiforge", pattern=r"^[a-z][a-z0-9_-]{0,62}$")
    environment: Environment = Environment.PRODUCTION
    secret_key: SecretStr | None = None
    # Default: a SQLite file named after the service in the current folder (`./apiforge.db`).
    database_url: str = ""
    redis_url: str | None = None
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Our access log (one JSON line per request, with route template and timing).
    access_log: bool = True
    # None: docs on outside production. Production serves them only when set to true.
    expose_docs: bool | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    health: HealthSettings = HealthSettings()
    cache: CacheSettings = CacheSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    proxy: ProxySettings = ProxySettings()
    metrics: MetricsSettings = MetricsSettings()
    tracing: TracingSettings = TracingSettings()
    loop_lag: LoopLagSettings = LoopLagSettings()
    profiling: ProfilingSettings = ProfilingSettings()
    server: ServerSettings = ServerSettings()

    # Argon2 parameters of the test environment, unless the test sets its own.
    _TEST_ARGON2: ClassVar[dict[str, int]] = {
        "argon2_memory_kib": 64,
        "argon2_time_cost": 1,
        "argon2_parallelism": 1,
    }

    @classmethod
    def for_tests(cls, database_url: str, **overrides: Any) -> Self:
        """Test-environment settings on `database_url` that ignore any `.env` lying around
        (environment variables still apply); `overrides` are field values."""
        values: dict[str, Any] = {"environment": Environment.TEST, "database_url": database_url}
        values.update(overrides)
        return cls(_env_file=None, **values)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of a (dotted) field: `env_name("db.pool_size")` is
        `APIFORGE_DB__POOL_SIZE` here and `NOTES_DB__POOL_SIZE` for a `NOTES_` subclass."""
        prefix = str(cls.model_config.get("env_prefix") or "")
        return prefix + "__".join(part.upper() for part in field.split("."))

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, url: str) -> str:
        return check_database_url(url) if url else url

    @model_validator(mode="after")
    def _secure_defaults(self) -> Self:
        self._name_defaults()
        if self.environment is Environment.PRODUCTION:
            self._check_production()
        elif self.secret_key is None:
            self.secret_key = SecretStr(DEVELOPMENT_SECRET_KEY)
        if (
            self.environment is Environment.TEST
            and "argon2_memory_kib" not in self.auth.model_fields_set
        ):
            # Cheap hashing keeps the suite fast; the algorithm and code path stay the same.
            self.auth = self.auth.model_copy(update=self._TEST_ARGON2)
        return self

    def _name_defaults(self) -> None:
        """Names not set take the service's: two services sharing a Redis or a collector do
        not mix their keys, channels, tokens or series by default."""
        name = self.service_name
        if not self.database_url:
            self.database_url = f"{SQLITE_DRIVER}:///./{name}.db"
        self.auth = _unset_from(self.auth, issuer=name, audience=f"{name}-api")
        self.cache = _unset_from(
            self.cache, key_prefix=f"{name}:cache:", channel=f"{name}:cache:invalidations"
        )
        self.ratelimit = _unset_from(self.ratelimit, key_prefix=f"{name}:ratelimit:")
        self.metrics = _unset_from(self.metrics, namespace=name.replace("-", "_"))
        self.tracing = _unset_from(self.tracing, service_name=name)

    def _check_production(self) -> None:
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        variable = self.env_name("secret_key")
        if not key or key == DEVELOPMENT_SECRET_KEY:
            raise ValueError(
                f"{variable} must be set to a random value in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        # An HMAC key shorter than the digest weakens it (RFC 7518 section 3.2).
        needed = max(MIN_SECRET_KEY_BYTES, _DIGEST_BYTES.get(self.auth.algorithm, 0))
        if len(key.encode()) < needed:
            raise ValueError(
                f"{variable} must be at least {needed} bytes in production "
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
        """Explicit settings win; by default on outside production when pyinstrument is
        installed (a missing optional extra leaves the feature off, never half on)."""
        if self.profiling.enabled is None:
            return self.environment is not Environment.PRODUCTION and _installed("pyinstrument")
        return self.profiling.enabled

    @property
    def signing_key(self) -> str:
        if self.secret_key is None:  # the validator always sets it; guard for type narrowing
            raise RuntimeError("secret key missing")
        return self.secret_key.get_secret_value()

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite_url(self.database_url)

    def secret_values(self) -> list[str]:
        """Every secret these settings hold (each `SecretStr` field, a service's sections
        included, and the passwords in the database and Redis URLs): the logs mask them
        wherever they would appear in free text."""
        values = [value for value in _secrets_of(self) if value]
        for url in (self.database_url, self.redis_url):
            password = _url_password(url)
            if password:
                values.append(password)
        return values


_Section = TypeVar("_Section", bound=BaseModel)


def _unset_from(section: _Section, **defaults: str) -> _Section:
    """`section` with each of `defaults` applied where the field was not set explicitly."""
    update = {key: value for key, value in defaults.items() if key not in section.model_fields_set}
    return section.model_copy(update=update) if update else section


def _secrets_of(model: BaseModel) -> list[str]:
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, SecretStr):
                found.append(item.get_secret_value())
            elif isinstance(item, BaseModel):
                found.extend(_secrets_of(item))
    return found


def _url_password(url: str | None) -> str | None:
    if not url or "://" not in url or "@" not in url:
        return None
    userinfo = url.split("://", 1)[1].rsplit("@", 1)[0]
    return userinfo.split(":", 1)[1] if ":" in userinfo else None
