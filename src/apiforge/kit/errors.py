"""The application's error tree. Each error carries a stable dotted `code` and an HTTP status;
`apiforge.kit.problems` renders them as RFC 9457 problem+json.

    AppError (500, "internal")
    ├── ValidationFailedError (422)
    ├── UnauthenticatedError (401)
    ├── PermissionDeniedError (403)
    ├── NotFoundError (404)
    ├── ConflictError (409)
    ├── PayloadTooLargeError (413)
    ├── RateLimitedError (429)
    └── ServiceUnavailableError (503)

Domains subclass these with their own codes (`catalog.product_not_found`). Not for: transport
errors of third-party clients; wrap them with `raise ... from exc`.
"""

from typing import Any, ClassVar


class AppError(Exception):
    """The root of every error a service answers on purpose. Subclass it (or one of the
    classes below) with a stable dotted `code`; raise it anywhere below the router and the
    kit answers problem+json with its `status`, `code`, `detail` and the request ID.
    `extra` adds members to that body (it cannot replace the standard ones: `type`, `title`,
    `status`, `detail`, `code`, `request_id`). A unit of work ending in an `AppError` rolls back
    unless the session was marked `commit_on_error`."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.title
        self.extra = extra or {}
        super().__init__(self.detail)


class ValidationFailedError(AppError):
    """422: the input broke a rule; `errors` lists each field (`loc`, `msg`, `type`), as
    for the validation FastAPI does itself."""

    status = 422
    code = "request.validation_failed"
    title = "Unprocessable Content"
    FIELDS_DETAIL: ClassVar[str] = "The request is not valid; see `errors` for each field."

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, extra={"errors": errors or []})


class UnauthenticatedError(AppError):
    """401: no credentials, or credentials that do not prove who is calling (answered with
    `WWW-Authenticate: <www_authenticate>`, `Bearer` unless a subclass says more)."""

    status = 401
    code = "auth.unauthenticated"
    title = "Unauthorized"
    www_authenticate: ClassVar[str] = "Bearer"


class PermissionDeniedError(AppError):
    """403: the caller is known but may not do this."""

    status = 403
    code = "auth.permission_denied"
    title = "Forbidden"


class NotFoundError(AppError):
    """404: no such object, or one the caller may not know exists."""

    status = 404
    code = "not_found"
    title = "Not Found"


class ConflictError(AppError):
    """409: the request conflicts with the current state (a taken name, a second cancel)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLargeError(AppError):
    """413: the body is over the limit (the body-limit middleware answers before parsing)."""

    status = 413
    code = "request.too_large"
    title = "Content Too Large"


class RateLimitedError(AppError):
    """429: too many requests. Raised by the kit's rate limits (`rate_limit`,
    `RequestThrottle`), whose headers layer adds `Retry-After`; raise it yourself for a limit
    of your own and add the header in a handler."""

    status = 429
    code = "ratelimit.exceeded"
    title = "Too Many Requests"


class ServiceUnavailableError(AppError):
    """503: a dependency is down; the client may retry later."""

    status = 503
    code = "unavailable"
    title = "Service Unavailable"
