"""Typed settings read from the environment (`APIFORGE_*`, or a service's own prefix) and
`.env`: the only package that reads the environment (its sections are in `sections.py`,
`auth.py` and `outbound.py`). Each component receives its own section;
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
from apiforge.kit.settings.auth import (
    SYMMETRIC_ALGORITHMS,
    AuthSettings,
    ExternalAlgorithm,
    ExternalIssuerSettings,
)
from apiforge.kit.settings.events import ConsumerSettings, EventsSettings
from apiforge.kit.settings.jobs import JobsSettings, MailSettings
from apiforge.kit.settings.outbound import HttpClientSettings, WebhookSettings
from apiforge.kit.settings.sections import (
    CacheSettings,
    CorsSettings,
    DatabaseSettings,
    HealthSettings,
    IdempotencySettings,
    LoopLagSettings,
    MetricsSettings,
    ProfilingSettings,
    RedisSettings,
    ServerSettings,
    TracingSettings,
)

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
    # At most this many access lines a second per route and status for answers served from
    # the front cache, each standing for the hits since the last (`represents`); 0: a line
    # per hit. Why: BENCHMARKS.md, issue 12 (observability on a cached read).
    access_log_hit_lines_per_second: float = Field(default=10.0, ge=0)
    # None: docs on outside production. Production serves them only when set to true.
    expose_docs: bool | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # A body must have arrived whole this long after the app first asks for it, or the answer
    # is 408 and the connection closes: a client dribbling 1 KB/s would otherwise hold a
    # request (and its slot) for as long as it likes. 10 s is max_body_bytes at 100 KB/s.
    body_read_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    # Header lines (names and values together) and the URL (path and query): larger is 431 /
    # 414 before anything parses them.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_url_bytes: int = Field(default=8 * 1024, ge=256)
    # The Host names the service answers to (`api.example.com`, `*.example.com`); empty:
    # any (a deployment behind a proxy that checks them). Others get 400.
    trusted_hosts: list[str] = Field(default_factory=list)

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    cors: CorsSettings = CorsSettings()
    idempotency: IdempotencySettings = IdempotencySettings()
    health: HealthSettings = HealthSettings()
    cache: CacheSettings = CacheSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    proxy: ProxySettings = ProxySettings()
    metrics: MetricsSettings = MetricsSettings()
    tracing: TracingSettings = TracingSettings()
    loop_lag: LoopLagSettings = LoopLagSettings()
    profiling: ProfilingSettings = ProfilingSettings()
    server: ServerSettings = ServerSettings()
    events: EventsSettings = EventsSettings()
    jobs: JobsSettings = JobsSettings()
    mail: MailSettings = MailSettings()
    http_client: HttpClientSettings = HttpClientSettings()
    webhooks: WebhookSettings = WebhookSettings()

    # Argon2 parameters of the test environment, unless the test sets its own.
    _TEST_ARGON2: ClassVar[dict[str, int]] = {
        "argon2_memory_kib": 64,
        "argon2_time_cost": 1,
        "argon2_parallelism": 1,
    }

    @classmethod
    def for_tests(cls, database_url: str, **overrides: Any) -> Self:
        """Test-environment settings on `database_url` that ignore any `.env` lying around
        (environment variables still apply); `overrides` are field values. No embedded outbox
        relay unless `events` says so: it would poll on the app's engine, inside each test's
        rolled-back connection (its own tests turn it on)."""
        values: dict[str, Any] = {
            "environment": Environment.TEST,
            "database_url": database_url,
            "events": EventsSettings(embedded_relay=False),
        }
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
        if self.jobs_broker != "memory" and not self.jobs_broker_url:
            raise ValueError(
                f"the {self.jobs_broker} job broker needs {self.env_name('jobs.url')}"
                + (f" or {self.env_name('redis_url')}" if self.jobs_broker == "redis" else "")
            )
        if self.environment is Environment.PRODUCTION:
            self._check_production()
        elif self.secret_key is None:
            self.secret_key = SecretStr(DEVELOPMENT_SECRET_KEY)
        if self.environment is Environment.TEST and "enabled" not in self.jobs.model_fields_set:
            # A job run in the background of a test would share its connection and outlive
            # it; the tests of jobs turn them on (jobs.enabled) on an app of their own.
            self.jobs = self.jobs.model_copy(update={"enabled": False})
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
        self.jobs = _unset_from(self.jobs, queue=f"{name}:jobs")

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
    def jobs_broker(self) -> str:
        """The job broker in use: the explicit setting, else Redis when a Redis URL is set,
        else the in-process broker."""
        if self.jobs.broker is not None:
            return self.jobs.broker
        return "redis" if self.redis_url else "memory"

    @property
    def jobs_broker_url(self) -> str | None:
        if self.jobs.url is not None:
            return self.jobs.url.get_secret_value()
        return self.redis_url if self.jobs_broker == "redis" else None

    @property
    def mail_dev_sink(self) -> bool:
        if self.mail.dev_sink is None:
            return self.environment is Environment.DEVELOPMENT
        return self.mail.dev_sink

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


__all__ = [
    "DEVELOPMENT_SECRET_KEY",
    "MIN_SECRET_KEY_BYTES",
    "OWASP_ARGON2_MINIMUMS",
    "POSTGRES_DRIVER",
    "SQLITE_DRIVER",
    "SYMMETRIC_ALGORITHMS",
    "AuthSettings",
    "CacheSettings",
    "ConsumerSettings",
    "CorsSettings",
    "DatabaseSettings",
    "Environment",
    "EventsSettings",
    "ExternalAlgorithm",
    "ExternalIssuerSettings",
    "HealthSettings",
    "HttpClientSettings",
    "IdempotencySettings",
    "JobsSettings",
    "LoopLagSettings",
    "MailSettings",
    "MetricsSettings",
    "ProfilingSettings",
    "RedisSettings",
    "ServerSettings",
    "Settings",
    "TracingSettings",
    "WebhookSettings",
    "check_database_url",
    "is_sqlite_url",
]
