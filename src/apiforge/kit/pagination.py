"""Keyset pagination: opaque cursors and the `Page[T]` envelope. A cursor is the sort key of
the last row seen, so every page is an index range scan (no deep OFFSET). Not for: SQL."""

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from apiforge.kit.errors import ValidationFailedError

T = TypeVar("T")
MAX_CURSOR_LENGTH = 512


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated listing: `items`, and `next_cursor` to pass back as
    `cursor` for the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None = None


PageCursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page."),
]
PageCursor.__doc__ = """The `cursor` query parameter of a listing (None: the first page), at most
512 characters; decode it with `decode_cursor`."""


class InvalidCursorError(ValidationFailedError):
    """422 `request.invalid_cursor`: a cursor from another listing or sort, or tampered."""

    code = "request.invalid_cursor"

    def __init__(self) -> None:
        super().__init__(
            "The cursor is not valid for this listing.",
            errors=[
                {"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor_invalid"}
            ],
        )


def encode_cursor(kind: str, *values: Any) -> str:
    """An opaque cursor holding `kind` (the listing and its sort) and the last row's sort
    key(s): JSON in URL-safe base64, so any JSON value round-trips."""
    raw = orjson.dumps([kind, *values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str, types: tuple[type, ...]) -> list[Any]:
    """Values of a cursor made by `encode_cursor(kind, ...)`, checked against `types`; a cursor
    from another listing or sort order, or a tampered one, is a 422, never a 500."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursorError
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidCursorError from exc
    if not isinstance(decoded, list) or len(decoded) != len(types) + 1 or decoded[0] != kind:
        raise InvalidCursorError
    values = decoded[1:]
    for value, expected in zip(values, types, strict=True):
        if type(value) is not expected:
            raise InvalidCursorError
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise InvalidCursorError
    return values
