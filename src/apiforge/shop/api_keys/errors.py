"""API keys errors, each with a stable code."""

from apiforge.kit import NotFoundError, PermissionDeniedError


class ApiKeyNotFoundError(NotFoundError):
    code = "api_keys.not_found"


class ScopeTooWideError(PermissionDeniedError):
    """A key never does more than its creator could: a scope above the creator's role."""

    code = "api_keys.scope_too_wide"
