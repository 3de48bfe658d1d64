"""Idempotent writes with `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header, Stripe's
semantics): a route opts in with `Idempotent`; the service maps `IdempotencyKeyMixin` onto its
metadata and gives it to `create_app(idempotency_keys=...)`. Not for: naturally idempotent
methods (GET, PUT, DELETE need no key)."""

from apiforge.kit.idempotency.dependencies import (
    HEADER,
    REPLAYED_HEADER,
    IdempotencyContext,
    Idempotent,
    IdempotentReplay,
    answer_replay,
)
from apiforge.kit.idempotency.errors import (
    IdempotencyInProgressError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMissingError,
    IdempotencyKeyReusedError,
)
from apiforge.kit.idempotency.model import IdempotencyKeyMixin
from apiforge.kit.idempotency.store import IdempotencyStore

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "IdempotencyContext",
    "IdempotencyInProgressError",
    "IdempotencyKeyInvalidError",
    "IdempotencyKeyMissingError",
    "IdempotencyKeyMixin",
    "IdempotencyKeyReusedError",
    "IdempotencyStore",
    "Idempotent",
    "IdempotentReplay",
    "answer_replay",
]
