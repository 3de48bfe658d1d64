"""Per-path body allowances: `BodyLimitMiddleware(overrides=...)` and
`create_app(body_limits=...)`."""

import pytest
from starlette.exceptions import HTTPException

from apiforge.kit import create_app
from apiforge.kit.middleware import BodyLimitMiddleware
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import call_asgi, http_scope, kit_settings, responder

LIMIT = 100
BIG_PATH = "/import"


def limited() -> BodyLimitMiddleware:
    return BodyLimitMiddleware(responder(), max_bytes=LIMIT, overrides={BIG_PATH: 10 * LIMIT})


def declared(size: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(size).encode())]


async def test_an_overridden_path_takes_more_than_the_global_limit() -> None:
    exchange = await call_asgi(
        limited(), http_scope(declared(5 * LIMIT), "POST", BIG_PATH), [b"a" * 5 * LIMIT]
    )

    assert exchange.status == 200


async def test_an_overridden_path_still_has_its_own_limit_declared_or_streamed() -> None:
    declared_over = await call_asgi(
        limited(), http_scope(declared(10 * LIMIT + 1), "POST", BIG_PATH)
    )
    with pytest.raises(HTTPException) as streamed_over:  # FastAPI renders it as the 413
        await call_asgi(limited(), http_scope((), "POST", BIG_PATH), [b"a" * 600, b"a" * 401])

    assert declared_over.status == 413
    assert declared_over.header(b"content-type") == [PROBLEM_CONTENT_TYPE.encode()]
    assert b"1000 bytes" in declared_over.body
    assert streamed_over.value.status_code == 413


async def test_other_paths_keep_the_global_limit() -> None:
    exchange = await call_asgi(
        limited(), http_scope(declared(LIMIT + 1), "POST", BIG_PATH + "/other")
    )

    assert exchange.status == 413


def test_create_app_passes_body_limits_to_the_middleware(sqlite_url: str) -> None:
    app = create_app(
        kit_settings(
            sqlite_url,
            max_body_bytes=2048,
            max_header_bytes=4000,
            max_url_bytes=300,
            body_read_timeout_seconds=7.5,
        ),
        body_limits={"/a": 4096, "/b": 8192},
    )
    (entry,) = [m for m in app.user_middleware if m.cls is BodyLimitMiddleware]  # type: ignore[comparison-overlap]  # Starlette types cls as a factory
    assert dict(entry.kwargs) == {
        "max_bytes": 2048,
        "overrides": {"/a": 4096, "/b": 8192},
        "max_header_bytes": 4000,
        "max_url_bytes": 300,
        "body_seconds": 7.5,
    }
