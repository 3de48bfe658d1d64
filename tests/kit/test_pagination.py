import base64
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import APIRouter, Query

from apiforge.kit import Page, decode_cursor, encode_cursor
from apiforge.kit.pagination import MAX_CURSOR_LENGTH, InvalidCursorError
from tests.kit.apps import kit_app, serve

TYPES: tuple[type, ...] = (int, str)


def _raw(payload: Any) -> str:
    """A cursor as a client could forge it: any JSON, base64url without padding."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "values",
    [(1, "a"), (2**63 - 1, "ünïcødé ✓"), (-(2**63), ""), (42, "with/slash+plus=eq")],
)
def test_round_trip(values: tuple[int, str]) -> None:
    cursor = encode_cursor("products:id", *values)
    assert "=" not in cursor
    assert cursor.isascii()
    assert decode_cursor(cursor, "products:id", TYPES) == list(values)


def test_round_trip_of_float_and_single_values() -> None:
    assert decode_cursor(encode_cursor("p", 12.5, 3), "p", (float, int)) == [12.5, 3]
    assert decode_cursor(encode_cursor("p", 7), "p", (int,)) == [7]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not a cursor",
        "é",
        "\x00",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not UTF-8
        base64.urlsafe_b64encode(b"[1, 2").decode(),  # truncated JSON
        _raw({"kind": "products:id"}),  # an object, not a list
        _raw("products:id"),
        _raw(None),
        _raw([]),
    ],
    ids=repr,
)
def test_garbage_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "products:id", TYPES)


def test_a_cursor_of_another_listing_or_sort_is_invalid() -> None:
    cursor = encode_cursor("orders:id", 5, "x")
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "products:id", TYPES)


@pytest.mark.parametrize(
    "payload",
    [
        ["products:id", "5", "x"],  # int as string
        ["products:id", 5.0, "x"],  # float for int
        ["products:id", True, "x"],  # bool is an int subclass in Python
        ["products:id", 5, 6],  # int for str
        ["products:id", None, "x"],
        ["products:id", [5], "x"],
        ["products:id", {"id": 5}, "x"],
        ["products:id", 5],  # too few values
        ["products:id", 5, "x", "extra"],  # too many
    ],
    ids=repr,
)
def test_wrong_types_are_invalid(payload: list[Any]) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(_raw(payload), "products:id", TYPES)


@pytest.mark.parametrize(
    "raw_json",
    [
        b'["products:id", 9223372036854775808, "x"]',  # 2**63: past bigint
        b'["products:id", -9223372036854775809, "x"]',
        b'["products:id", 18446744073709551615, "x"]',  # u64 max
        b'["products:id", 99999999999999999999999999999, "x"]',  # parsed as a float
        b'["products:id", 1e400, "x"]',
    ],
)
def test_huge_integers_are_invalid(raw_json: bytes) -> None:
    cursor = base64.urlsafe_b64encode(raw_json).decode()
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "products:id", TYPES)


def test_over_long_cursor_is_invalid_before_decoding() -> None:
    long_kind = "k" * MAX_CURSOR_LENGTH
    cursor = encode_cursor(long_kind, 1, "x")
    assert len(cursor) > MAX_CURSOR_LENGTH
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, long_kind, TYPES)


def test_invalid_cursor_error_is_a_422_naming_the_parameter() -> None:
    error = InvalidCursorError()
    assert error.status == 422
    assert error.code == "request.invalid_cursor"
    assert error.extra["errors"][0]["loc"] == ["query", "cursor"]


def test_page_serialises_items_and_cursor() -> None:
    page = Page[int](items=[1, 2], next_cursor="abc")
    assert page.model_dump() == {"items": [1, 2], "next_cursor": "abc"}
    assert Page[str](items=[]).next_cursor is None


router = APIRouter()


@router.get("/things")
async def list_things(
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
) -> Page[int]:
    after = decode_cursor(cursor, "things", (int,))[0] if cursor else 0
    items = [after + 1, after + 2]
    return Page[int](items=items, next_cursor=encode_cursor("things", items[-1]))


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(kit_app(sqlite_url, router)) as http:
        yield http


async def test_cursor_over_http(client: httpx.AsyncClient) -> None:
    first = (await client.get("/things")).json()
    second = (await client.get("/things", params={"cursor": first["next_cursor"]})).json()
    assert second["items"] == [3, 4]


@pytest.mark.parametrize("cursor", ["garbage", _raw(["things", True]), _raw(["other", 1])])
async def test_bad_cursor_over_http_is_422_problem(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/things", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "request.invalid_cursor"
    assert body["errors"][0]["loc"] == ["query", "cursor"]
