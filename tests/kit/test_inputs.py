from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from apiforge.kit.inputs import MAX_BIGINT, LongText, PathId, RowId, SafeStr, ShortText
from tests.kit.apps import kit_app, serve

safe_str = TypeAdapter(SafeStr)
name = TypeAdapter(ShortText)
long_text = TypeAdapter(LongText)
row_id = TypeAdapter(RowId)


@pytest.mark.parametrize("text", ["plain", "", "ünïcødé ✓ 漢字 🎉", "tab\tand\nnewline", "\u202e"])
def test_safe_str_accepts_valid_unicode(text: str) -> None:
    assert safe_str.validate_python(text) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nul\x00byte", "NUL"),
        ("\x00", "NUL"),
        ("lone \ud800 high surrogate", "surrogates"),
        ("lone \udfff low surrogate", "surrogates"),
    ],
)
def test_safe_str_rejects_nul_and_lone_surrogates(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        safe_str.validate_python(text)


def test_name_is_stripped_and_bounded() -> None:
    assert name.validate_python("  Widget  ") == "Widget"
    assert name.validate_python(" " + "x" * 200 + " ") == "x" * 200  # length after stripping
    for bad in ("", "   ", "\t\n", "x" * 201, "a\x00b", "a\ud800"):
        with pytest.raises(ValidationError):
            name.validate_python(bad)


def test_long_text_is_bounded() -> None:
    assert long_text.validate_python("x" * 5000) == "x" * 5000
    with pytest.raises(ValidationError):
        long_text.validate_python("x" * 5001)


@pytest.mark.parametrize("value", [1, 2, MAX_BIGINT])
def test_row_id_accepts_bigint_range(value: int) -> None:
    assert row_id.validate_python(value) == value


@pytest.mark.parametrize("value", [0, -1, MAX_BIGINT + 1, 10**100, 1.5, "1x", None])
def test_row_id_rejects_out_of_range(value: Any) -> None:
    with pytest.raises(ValidationError):
        row_id.validate_python(value)


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    parent_id: RowId | None = None


router = APIRouter()


@router.get("/things/{thing_id}")
async def get_thing(thing_id: PathId) -> dict[str, int]:
    return {"id": thing_id}


@router.post("/things")
async def create_thing(thing: Thing) -> dict[str, str]:
    return {"name": thing.name}


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(kit_app(sqlite_url, router)) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/things/1", 200),
        (f"/things/{MAX_BIGINT}", 200),
        ("/things/0", 422),
        ("/things/-5", 422),
        (f"/things/{MAX_BIGINT + 1}", 422),
        ("/things/" + "9" * 5000, 422),
        ("/things/1.5", 422),
        ("/things/abc", 422),
        ("/things/%00", 422),
    ],
)
async def test_path_ids_are_bounded(client: httpx.AsyncClient, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status_code == status
    if status == 422:
        assert response.json()["errors"][0]["loc"] == ["path", "thing_id"]


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"name": "nul \\u0000 byte"}',
        b'{"name": "lone \\ud800 surrogate"}',
        b'{"name": "ok", "parent_id": 99999999999999999999999999}',
        b'{"name": "ok", "parent_id": 0}',
        b'{"name": "   "}',
    ],
)
async def test_hostile_bodies_are_422_not_500(client: httpx.AsyncClient, raw_body: bytes) -> None:
    response = await client.post(
        "/things", content=raw_body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "request.validation_failed"


async def test_clean_body_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": " café ✓ ", "parent_id": 3})
    assert response.status_code == 200
    assert response.json() == {"name": "café ✓"}
