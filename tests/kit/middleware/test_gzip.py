"""GZipMiddleware on raw ASGI apps, asserting on the raw headers and bytes it sends."""

import gzip
import zlib
from collections.abc import Sequence

import pytest

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.middleware.gzip import GZipMiddleware, accepts_gzip, compressible
from tests.kit.apps import Exchange, call_asgi, http_scope

GZIP = [(b"accept-encoding", b"gzip, deflate, br")]
BIG = b'{"items": [' + b'{"name": "anvil", "price": "12.50"},' * 100 + b"{}]}"


def app_sending(
    chunks: Sequence[bytes],
    content_type: bytes = b"application/json",
    *,
    status: int = 200,
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> ASGIApp:
    """Answers with `chunks` as the body (one message each), declaring the total length."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(sum(map(len, chunks))).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send(
                {"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1}
            )

    return app


async def call(
    app: ASGIApp, headers: Sequence[tuple[bytes, bytes]] = GZIP, method: str = "GET"
) -> Exchange:
    return await call_asgi(GZipMiddleware(app), http_scope(headers, method=method))


def assert_untouched(exchange: Exchange, body: bytes) -> None:
    assert exchange.header(b"content-encoding") == []
    assert exchange.body == body
    assert exchange.header(b"content-length") == [str(len(body)).encode()]


async def test_a_large_json_body_is_compressed_with_length_and_vary_fixed() -> None:
    exchange = await call(app_sending([BIG]))

    assert exchange.header(b"content-encoding") == [b"gzip"]
    assert exchange.header(b"vary") == [b"Accept-Encoding"]
    assert exchange.header(b"content-length") == [str(len(exchange.body)).encode()]
    assert len(exchange.body) < len(BIG) / 4
    assert gzip.decompress(exchange.body) == BIG


async def test_a_body_below_the_threshold_passes_untouched_but_says_it_varies() -> None:
    small = BIG[:999]
    exchange = await call(app_sending([small]))

    assert_untouched(exchange, small)
    assert exchange.header(b"vary") == [b"Accept-Encoding"]


async def test_the_threshold_is_inclusive_at_minimum_size() -> None:
    exchange = await call(app_sending([BIG[:1000]]))

    assert exchange.header(b"content-encoding") == [b"gzip"]


@pytest.mark.parametrize(
    "headers",
    [[], [(b"accept-encoding", b"deflate, br")], [(b"accept-encoding", b"gzip;q=0")]],
    ids=["none", "other codings", "gzip refused"],
)
async def test_without_gzip_accepted_the_answer_is_untouched(
    headers: list[tuple[bytes, bytes]],
) -> None:
    exchange = await call(app_sending([BIG]), headers)

    assert_untouched(exchange, BIG)
    assert exchange.header(b"vary") == []


@pytest.mark.parametrize(
    "content_type",
    [
        b"application/problem+json",
        b"application/x-ndjson",
        b"text/csv; charset=utf-8",
        b"text/html",
        b"application/javascript",
        b"image/svg+xml",
    ],
)
async def test_compressible_types_are_compressed(content_type: bytes) -> None:
    exchange = await call(app_sending([BIG], content_type))

    assert exchange.header(b"content-encoding") == [b"gzip"]


@pytest.mark.parametrize(
    "content_type",
    [b"image/png", b"application/octet-stream", b"application/zip", b"text/event-stream", b""],
)
async def test_other_types_pass_untouched(content_type: bytes) -> None:
    exchange = await call(app_sending([BIG], content_type))

    assert_untouched(exchange, BIG)
    assert exchange.header(b"vary") == []


async def test_an_already_encoded_body_is_not_encoded_again() -> None:
    encoded = gzip.compress(BIG)
    app = app_sending([encoded], extra=[(b"content-encoding", b"gzip")])

    exchange = await call(app)

    assert exchange.header(b"content-encoding") == [b"gzip"]
    assert exchange.body == encoded


async def test_an_event_stream_is_never_compressed_even_when_streamed() -> None:
    chunks = [b"data: " + BIG + b"\n\n", b"data: more\n\n"]
    exchange = await call(app_sending(chunks, b"text/event-stream"))

    assert exchange.header(b"content-encoding") == []
    assert [m.get("body") for m in exchange.messages[1:]] == chunks


async def test_a_streamed_body_is_compressed_chunk_by_chunk() -> None:
    chunks = [b'{"n": %d}\n' % i * 20 for i in range(5)]
    exchange = await call(app_sending(chunks, b"application/x-ndjson"))

    assert exchange.header(b"content-encoding") == [b"gzip"]
    assert exchange.header(b"content-length") == []
    assert exchange.header(b"vary") == [b"Accept-Encoding"]
    bodies = [m for m in exchange.messages[1:]]
    assert len(bodies) == len(chunks)
    assert [m["more_body"] for m in bodies] == [True, True, True, True, False]
    # Each piece is flushed: decompressing what arrived so far yields every chunk sent so far.
    decompressor = zlib.decompressobj(31)
    for i, message in enumerate(bodies):
        assert decompressor.decompress(message["body"]) == chunks[i]
    assert decompressor.eof


async def test_head_and_bodiless_answers_pass_untouched() -> None:
    head = await call(app_sending([BIG]), method="HEAD")
    not_modified = await call(app_sending([b""], status=304))

    assert_untouched(head, BIG)
    assert not_modified.header(b"content-encoding") == []
    assert not_modified.header(b"vary") == []


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    await GZipMiddleware(app)({"type": "lifespan"}, receive, send)

    assert seen == ["lifespan"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"gzip", True),
        (b"GZIP", True),
        (b"br;q=1.0, gzip;q=0.5", True),
        (b"*", True),
        (b"gzip;q=0", False),
        (b"gzip;q=0.000", False),
        (b"gzip;q=oops", False),
        (b"identity", False),
        (b"xgzip", False),
    ],
)
def test_accept_encoding_parsing(value: bytes, expected: bool) -> None:
    assert accepts_gzip([(b"accept-encoding", value)]) is expected


def test_media_type_parameters_and_case_are_ignored() -> None:
    assert compressible(b"Application/JSON; charset=utf-8")
    assert not compressible(b"Text/Event-Stream; charset=utf-8")
