"""apiforge.kit: the reusable production kit. The names below are its public API; anything
else is internal and may move (a test keeps this list honest)."""

from apiforge.kit.app import create_app
from apiforge.kit.auth import AccessTokenCodec, PasswordHasher, Principal
from apiforge.kit.auth.dependencies import CurrentPrincipal, current_principal, require_roles
from apiforge.kit.cache import (
    CacheBackend,
    CacheStats,
    MemoryCache,
    RedisCache,
    RenderedJson,
    TieredCache,
    cached_json,
    public_max_age,
)
from apiforge.kit.db.base import Base, CreatedAt, IdPk, UTCDateTime
from apiforge.kit.db.database import Database
from apiforge.kit.db.session import DbSession, after_commit
from apiforge.kit.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthenticatedError,
    ValidationFailedError,
)
from apiforge.kit.lifespan import AppState, app_state
from apiforge.kit.money import MoneyMinor, format_minor, parse_money
from apiforge.kit.pagination import Page, decode_cursor, encode_cursor
from apiforge.kit.settings import Environment, Settings

__all__ = [
    "AccessTokenCodec",
    "AppError",
    "AppState",
    "Base",
    "CacheBackend",
    "CacheStats",
    "ConflictError",
    "CreatedAt",
    "CurrentPrincipal",
    "Database",
    "DbSession",
    "Environment",
    "IdPk",
    "MemoryCache",
    "MoneyMinor",
    "NotFoundError",
    "Page",
    "PasswordHasher",
    "PermissionDeniedError",
    "Principal",
    "RateLimitedError",
    "RedisCache",
    "RenderedJson",
    "ServiceUnavailableError",
    "Settings",
    "TieredCache",
    "UTCDateTime",
    "UnauthenticatedError",
    "ValidationFailedError",
    "after_commit",
    "app_state",
    "cached_json",
    "create_app",
    "current_principal",
    "decode_cursor",
    "encode_cursor",
    "format_minor",
    "parse_money",
    "public_max_age",
    "require_roles",
]
