"""apiforge.kit: the reusable production kit for FastAPI services. A service imports only this
package (and `apiforge.kit.testing` in its tests); anything deeper is internal and may move.

    from apiforge.kit import Base, IdPk, Settings, WriteSession, create_app

Build an app with `create_app(settings, routers=[...], migrations=...)`, extend `Settings` with
the service's own sections and prefix, declare each route's unit of work (`ReadSession` or
`WriteSession`), raise `AppError` subclasses for refusals, and guard routes with
`CurrentPrincipal` / `require_roles`. The README's "Build your own service" and `docs/` walk
through it; `apiforge new NAME` writes a service laid out this way.
"""

from apiforge.kit.app import create_app
from apiforge.kit.auth import (
    AccessTokenCodec,
    ApiKeyCodec,
    ExpiredTokenError,
    InvalidTokenError,
    IssuedAccessToken,
    NewApiKey,
    PasswordHasher,
    Principal,
    new_refresh_token,
    refresh_token_digest,
)
from apiforge.kit.cache import (
    CacheBackend,
    CacheStats,
    MemoryCache,
    RedisCache,
    RenderedJson,
    TieredCache,
    cached_json,
    private_no_store,
    public_max_age,
)
from apiforge.kit.cache.front import FrontCache, front_cache_entry
from apiforge.kit.db.base import Base, BigIntId, CreatedAt, IdPk, UTCDateTime, table_of, utcnow
from apiforge.kit.db.database import Database, ReadOnlySessionError
from apiforge.kit.db.driver import DriverQuery, is_postgres
from apiforge.kit.db.migrations import Migrations, run_alembic_env
from apiforge.kit.db.session import ReadSession, WriteSession
from apiforge.kit.db.tenants import (
    TenantScope,
    UnscopedTenantQueryError,
    bind_tenant,
    cross_tenant,
    row_level_security_sql,
    scoped,
    tenant_owned,
)
from apiforge.kit.db.unit_of_work import after_commit, commit_on_error
from apiforge.kit.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthenticatedError,
    ValidationFailedError,
)
from apiforge.kit.idempotency import (
    IdempotencyContext,
    IdempotencyInProgressError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMissingError,
    IdempotencyKeyMixin,
    IdempotencyKeyReusedError,
    IdempotencyStore,
    Idempotent,
)
from apiforge.kit.identity import (
    ExternalIdentity,
    Identity,
    IdentityStore,
    IdentityStoreFactory,
    IssuerUnavailableError,
    StoredApiKey,
    SubjectState,
)
from apiforge.kit.identity.dependencies import (
    CurrentPrincipal,
    UserPrincipal,
    current_principal,
    require_roles,
    require_scopes,
)
from apiforge.kit.inbox import Inbox, InboxMessageMixin
from apiforge.kit.inputs import LongText, PathId, RowId, SafeStr, ShortText
from apiforge.kit.logs import configure_logging
from apiforge.kit.metrics import mark_process_dead
from apiforge.kit.money import MoneyMinor, format_minor, parse_money
from apiforge.kit.openapi import problem_responses
from apiforge.kit.pagination import (
    InvalidCursorError,
    Page,
    PageCursor,
    decode_cursor,
    encode_cursor,
)
from apiforge.kit.proxies import ProxySettings
from apiforge.kit.ratelimit import (
    Counted,
    MemoryRateLimitBackend,
    RateLimitBackend,
    RateLimitUnavailableError,
    RedisRateLimitBackend,
    RequestThrottle,
    Throttle,
    Usage,
    rate_limit,
)
from apiforge.kit.rates import (
    LimitKey,
    OnFailure,
    Rate,
    RateLimitPolicy,
    RateLimitPolicySettings,
    RateLimitSettings,
)
from apiforge.kit.readiness import Deployment, Finding, Severity, production_findings
from apiforge.kit.serving import ServeOptions, prepare_metrics_dir, serve_factory, serve_metrics
from apiforge.kit.settings import (
    AuthSettings,
    CacheSettings,
    CorsSettings,
    DatabaseSettings,
    Environment,
    ExternalIssuerSettings,
    HealthSettings,
    IdempotencySettings,
    LoopLagSettings,
    MetricsSettings,
    ProfilingSettings,
    RedisSettings,
    ServerSettings,
    Settings,
    TracingSettings,
)
from apiforge.kit.startup import MissingExtraError, StartupError
from apiforge.kit.state import (
    AppConfig,
    AppState,
    LifespanResource,
    StartupHook,
    app_config,
    app_state,
)
from apiforge.kit.tenancy import (
    RoleLadder,
    Tenancy,
    TenantAccess,
    TenantNotFoundError,
    TenantRule,
    tenancy_dependency,
)
from apiforge.kit.tracing import trace_http_client, tracer_provider
from apiforge.kit.webhooks import (
    WebhookHeadersMissingError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
)
from apiforge.kit.webhooks import generate_secret as generate_webhook_secret
from apiforge.kit.webhooks import sign as sign_webhook
from apiforge.kit.webhooks import signature_headers as webhook_signature_headers
from apiforge.kit.webhooks import verify as verify_webhook

__all__ = [
    "AccessTokenCodec",
    "ApiKeyCodec",
    "AppConfig",
    "AppError",
    "AppState",
    "AuthSettings",
    "Base",
    "BigIntId",
    "CacheBackend",
    "CacheSettings",
    "CacheStats",
    "ConflictError",
    "CorsSettings",
    "Counted",
    "CreatedAt",
    "CurrentPrincipal",
    "Database",
    "DatabaseSettings",
    "Deployment",
    "DriverQuery",
    "Environment",
    "ExpiredTokenError",
    "ExternalIdentity",
    "ExternalIssuerSettings",
    "Finding",
    "FrontCache",
    "HealthSettings",
    "IdPk",
    "IdempotencyContext",
    "IdempotencyInProgressError",
    "IdempotencyKeyInvalidError",
    "IdempotencyKeyMissingError",
    "IdempotencyKeyMixin",
    "IdempotencyKeyReusedError",
    "IdempotencySettings",
    "IdempotencyStore",
    "Idempotent",
    "Identity",
    "IdentityStore",
    "IdentityStoreFactory",
    "Inbox",
    "InboxMessageMixin",
    "InvalidCursorError",
    "InvalidTokenError",
    "IssuedAccessToken",
    "IssuerUnavailableError",
    "LifespanResource",
    "LimitKey",
    "LongText",
    "LoopLagSettings",
    "MemoryCache",
    "MemoryRateLimitBackend",
    "MetricsSettings",
    "Migrations",
    "MissingExtraError",
    "MoneyMinor",
    "NewApiKey",
    "NotFoundError",
    "OnFailure",
    "Page",
    "PageCursor",
    "PasswordHasher",
    "PathId",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Principal",
    "ProfilingSettings",
    "ProxySettings",
    "Rate",
    "RateLimitBackend",
    "RateLimitPolicy",
    "RateLimitPolicySettings",
    "RateLimitSettings",
    "RateLimitUnavailableError",
    "RateLimitedError",
    "ReadOnlySessionError",
    "ReadSession",
    "RedisCache",
    "RedisRateLimitBackend",
    "RedisSettings",
    "RenderedJson",
    "RequestThrottle",
    "RoleLadder",
    "RowId",
    "SafeStr",
    "ServeOptions",
    "ServerSettings",
    "ServiceUnavailableError",
    "Settings",
    "Severity",
    "ShortText",
    "StartupError",
    "StartupHook",
    "StoredApiKey",
    "SubjectState",
    "Tenancy",
    "TenantAccess",
    "TenantNotFoundError",
    "TenantRule",
    "TenantScope",
    "Throttle",
    "TieredCache",
    "TracingSettings",
    "UTCDateTime",
    "UnauthenticatedError",
    "UnscopedTenantQueryError",
    "Usage",
    "UserPrincipal",
    "ValidationFailedError",
    "WebhookHeadersMissingError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookVerificationError",
    "WriteSession",
    "after_commit",
    "app_config",
    "app_state",
    "bind_tenant",
    "cached_json",
    "commit_on_error",
    "configure_logging",
    "create_app",
    "cross_tenant",
    "current_principal",
    "decode_cursor",
    "encode_cursor",
    "format_minor",
    "front_cache_entry",
    "generate_webhook_secret",
    "is_postgres",
    "mark_process_dead",
    "new_refresh_token",
    "parse_money",
    "prepare_metrics_dir",
    "private_no_store",
    "problem_responses",
    "production_findings",
    "public_max_age",
    "rate_limit",
    "refresh_token_digest",
    "require_roles",
    "require_scopes",
    "row_level_security_sql",
    "run_alembic_env",
    "scoped",
    "serve_factory",
    "serve_metrics",
    "sign_webhook",
    "table_of",
    "tenancy_dependency",
    "tenant_owned",
    "trace_http_client",
    "tracer_provider",
    "utcnow",
    "verify_webhook",
    "webhook_signature_headers",
]
