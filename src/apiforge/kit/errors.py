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
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal Server Error"
    # True for the rare error whose side effects must outlive the failed request (revoking a
    # stolen token family): the request's unit of work then commits instead of rolling back.
    keep_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.title
        self.extra = extra or {}
        super().__init__(self.detail)


class ValidationFailedError(AppError):
    status = 422
    code = "request.validation_failed"
    title = "Unprocessable Content"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, extra={"errors": errors or []})


class UnauthenticatedError(AppError):
    status = 401
    code = "auth.unauthenticated"
    title = "Unauthorized"


class PermissionDeniedError(AppError):
    status = 403
    code = "auth.permission_denied"
    title = "Forbidden"


class NotFoundError(AppError):
    status = 404
    code = "not_found"
    title = "Not Found"


class ConflictError(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLargeError(AppError):
    status = 413
    code = "request.too_large"
    title = "Content Too Large"


class RateLimitedError(AppError):
    status = 429
    code = "rate_limited"
    title = "Too Many Requests"


class ServiceUnavailableError(AppError):
    status = 503
    code = "unavailable"
    title = "Service Unavailable"
