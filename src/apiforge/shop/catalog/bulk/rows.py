"""Reads an import body into validated rows with their line numbers. NDJSON is split as it
streams in; a JSON array is read once into memory (bounded by the route's body limit) and
parsed with orjson. Nothing here touches the database."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from apiforge.shop.catalog.errors import (
    ImportRowsInvalidError,
    ImportTooLargeError,
    UnsupportedImportTypeError,
)
from apiforge.shop.catalog.schemas import ProductCreate

JSON = "application/json"
NDJSON = "application/x-ndjson"
MAX_ERRORS = 100


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A valid row, in column terms, with the line it came from."""

    line: int
    name: str
    description: str
    price_minor: int
    stock: int
    category_id: int


def media_type(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in (JSON, NDJSON):
        raise UnsupportedImportTypeError(media)
    return media


def row_error(line: int, loc: tuple[int | str, ...], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", str(line), *map(str, loc)], "msg": msg, "type": kind, "line": line}


async def ndjson_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Non-blank lines with their numbers (blank lines are skipped but counted). Only the
    unfinished last line is carried between chunks."""
    tail = b""
    number = 0
    async for chunk in chunks:
        *lines, tail = (tail + chunk).split(b"\n")
        for line in lines:
            number += 1
            if line.strip():
                yield number, line
    if tail.strip():
        yield number + 1, tail


async def json_items(chunks: AsyncIterator[bytes]) -> Iterator[tuple[int, Any]]:
    parts = [chunk async for chunk in chunks]
    try:
        document = orjson.loads(b"".join(parts))
    except orjson.JSONDecodeError as exc:
        raise ImportRowsInvalidError(
            [{"loc": ["body"], "msg": f"invalid JSON: {exc}", "type": "json_invalid", "line": 0}],
            truncated=False,
        ) from exc
    if not isinstance(document, list):
        raise ImportRowsInvalidError(
            [{"loc": ["body"], "msg": "expected a JSON array", "type": "list_type", "line": 0}],
            truncated=False,
        )
    return enumerate(document, start=1)


class RowReader:
    """Validates rows one by one, keeping the valid ones and up to `MAX_ERRORS` errors."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.count = 0
        self.rows: list[ImportRow] = []
        self.errors: list[dict[str, Any]] = []
        self.truncated = False

    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def add(self, line: int, raw: Any, *, is_json_text: bool) -> None:
        """`raw` is one NDJSON line (`is_json_text`) or an item of a parsed JSON array."""
        self.count += 1
        if self.count > self.max_rows:
            raise ImportTooLargeError(self.max_rows)
        try:
            product = (
                ProductCreate.model_validate_json(raw)
                if is_json_text
                else ProductCreate.model_validate(raw)
            )
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                if self.full():
                    self.truncated = True
                    return
                self.errors.append(row_error(line, error["loc"], error["msg"], error["type"]))
            return
        if not self.errors:  # once a row failed, nothing will be written: stop keeping rows
            self.rows.append(
                ImportRow(
                    line,
                    product.name,
                    product.description,
                    product.price,
                    product.stock,
                    product.category_id,
                )
            )

    def result(self) -> list[ImportRow]:
        if self.errors:
            raise ImportRowsInvalidError(self.errors, truncated=self.truncated)
        return self.rows


async def read_rows(
    content_type: str, chunks: AsyncIterator[bytes], max_rows: int
) -> list[ImportRow]:
    """All rows of the body, validated; raises with every error found (up to `MAX_ERRORS`,
    after which reading stops) when any row is invalid."""
    reader = RowReader(max_rows)
    if media_type(content_type) == NDJSON:
        async for line, raw in ndjson_lines(chunks):
            reader.add(line, raw, is_json_text=True)
            if reader.truncated:
                break
    else:
        for line, item in await json_items(chunks):
            reader.add(line, item, is_json_text=False)
            if reader.truncated:
                break
    return reader.result()
