"""Input types that keep hostile input out of the database: text without NUL bytes or lone
surrogates (PostgreSQL rejects both with a 500-shaped error), ids within bigint."""

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, StringConstraints

MAX_BIGINT = 2**63 - 1


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL bytes")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


SafeStr = Annotated[str, AfterValidator(_clean_text)]
SafeStr.__doc__ = """Text without NUL bytes or lone surrogates (either would reach PostgreSQL as a
500-shaped error); any length. Add `StringConstraints` for bounds."""

# Constraints go on the plain `str`, before the validator: stacked on top of `SafeStr`, pydantic
# checks the length before stripping, so "   " would pass `min_length=1` and become "".
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_clean_text),
]
ShortText.__doc__ = """A name or title: 1-200 characters after stripping whitespace, safe text."""

LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_clean_text)]
LongText.__doc__ = """A description: up to 5,000 characters of safe text (may be empty)."""

RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
RowId.__doc__ = """A row id in a body or a query: 1 to 2**63 - 1 (a bigint), else 422."""

PathId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
PathId.__doc__ = """A row id in the path (`/notes/{note_id}`): 1 to 2**63 - 1, else 422."""
