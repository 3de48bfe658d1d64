"""Refusals to start: a feature turned on whose optional extra is not installed, signing keys
that cannot sign, or settings adjusting a rate limit the service does not declare, stop the
app factory with one line saying what to change, instead of an app that half-starts and
answers 500s. Not for: bad setting values (the `Settings` validators)."""

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass

from apiforge.kit.auth.signing import SigningKeyError, SigningKeys
from apiforge.kit.rates import RateLimitPolicy
from apiforge.kit.settings import Settings


class StartupError(RuntimeError):
    """The service cannot start as configured; the message says what to change. The CLI
    prints it as one line and exits 2."""


class MissingExtraError(StartupError):
    """A feature is on but the package behind it is not installed."""


@dataclass(frozen=True)
class _Feature:
    name: str
    module: str
    extra: str
    how_to_turn_off: str


def _needed(settings: Settings) -> list[_Feature]:
    features = []
    if settings.profiling.enabled:
        off = f"set {settings.env_name('profiling.enabled')}=false"
        features.append(_Feature("profiling", "pyinstrument", "profiling", off))
    if settings.tracing.enabled:
        off = f"set {settings.env_name('tracing.enabled')}=false"
        for module in ("opentelemetry.sdk", "opentelemetry.instrumentation.asgi"):
            features.append(_Feature("tracing", module, "tracing", off))
    if settings.redis_url:
        off = f"unset {settings.env_name('redis_url')}"
        features.append(_Feature("Redis", "redis", "redis", off))
    if not settings.is_sqlite:
        off = "use SQLite"
        features.append(_Feature("PostgreSQL", "asyncpg", "postgres", off))
    return features


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def check_extras(settings: Settings) -> None:
    """Raises `MissingExtraError` for the first feature on whose package is missing."""
    for feature in _needed(settings):
        if not _installed(feature.module):
            raise MissingExtraError(
                f"{feature.name} is on but {feature.module} is not installed: "
                f"pip install 'apiforge[{feature.extra}]', or {feature.how_to_turn_off}"
            )


def check_signing_keys(settings: Settings) -> None:
    """Raises `StartupError` when `auth.signing_keys` cannot sign `auth.algorithm` (not PEM,
    or keys of another type), so the factory refuses instead of the first request."""
    try:
        SigningKeys.from_settings(settings.auth, settings.signing_key)
    except SigningKeyError as exc:
        raise StartupError(str(exc)) from exc


def check_rate_limits(settings: Settings, policies: Sequence[RateLimitPolicy]) -> None:
    """Raises `StartupError` when the settings adjust a policy the service does not declare
    (a typo would otherwise leave the intended limit as it was, silently)."""
    declared = {policy.name for policy in policies}
    unknown = sorted(set(settings.ratelimit.policies) - declared)
    if unknown:
        raise StartupError(
            f"{settings.env_name('ratelimit.policies')}: no policy named {', '.join(unknown)}; "
            f"the service declares {', '.join(sorted(declared)) or 'none'}"
        )
