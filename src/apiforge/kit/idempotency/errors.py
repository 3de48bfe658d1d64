"""The refusals of `Idempotency-Key` handling, each with a stable code."""

from apiforge.kit.errors import AppError, ConflictError, ValidationFailedError


class IdempotencyKeyInvalidError(AppError):
    """400 `idempotency.key_invalid`: a key that is empty, longer than 255 characters or
    not printable ASCII."""

    status = 400
    code = "idempotency.key_invalid"
    title = "Bad Request"


class IdempotencyKeyMissingError(IdempotencyKeyInvalidError):
    """400 `idempotency.key_missing`: no key on a route that needs one
    (`settings.idempotency.required`)."""

    code = "idempotency.key_missing"


class IdempotencyInProgressError(ConflictError):
    """409 `idempotency.in_progress`: a request with this key is still running; retry once it
    has answered (the answer is then replayed)."""

    code = "idempotency.in_progress"


class IdempotencyKeyReusedError(ValidationFailedError):
    """422 `idempotency.key_reused`: the key was already used for another request (another
    route or another body)."""

    code = "idempotency.key_reused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
