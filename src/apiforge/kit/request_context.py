"""Per-request context shared with log lines and outbound HTTP: the request ID in a ContextVar.
Not for: passing data between handlers (use dependencies). Jobs (issue to come): the job queue
will carry the ID in each message and bind it here while the job runs."""

from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("apiforge_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Bind the ID for this task; returns a token for `reset_request_id`."""
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
