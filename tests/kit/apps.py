"""Tiny inline apps for kit tests: settings for the test environment, an HTTP client on an app
with its lifespan running, and a raw ASGI driver for middleware tested without FastAPI."""

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from apiforge.kit import Environment, Settings, create_app
from apiforge.kit.asgi import ASGIApp, Message, Scope
from apiforge.kit.logs import JSONFormatter, KitLogHandler

BASE_URL = "http://testserver"


def kit_settings(database_url: str, **overrides: Any) -> Settings:
    """Test-environment settings that ignore any `.env` lying around."""
    values: dict[str, Any] = {"environment": Environment.TEST, "database_url": database_url}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def kit_app(database_url: str, *routers: APIRouter, **overrides: Any) -> FastAPI:
    return create_app(kit_settings(database_url, **overrides), routers=routers)


@asynccontextmanager
async def serve(
    app: FastAPI, wrap: Callable[[ASGIApp], ASGIApp] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on `app` with its lifespan running; `wrap` puts raw ASGI around the app."""
    # The app itself, not `manager.app`, which shares one state dict across requests
    # (kit.testing.running_app says why).
    async with LifespanManager(app):
        asgi: ASGIApp = app
        transport = httpx.ASGITransport(app=wrap(asgi) if wrap else asgi)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


@contextmanager
def capture_kit_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Formats caplog's records with the kit's JSON formatter. Every logger propagates to the
    root, where caplog's handler sits beside the kit's own; it formats at emit time, while the
    request ID is still bound."""
    previous = caplog.handler.formatter
    caplog.handler.setFormatter(JSONFormatter())
    try:
        yield
    finally:
        caplog.handler.setFormatter(previous or logging.Formatter())


@contextmanager
def kit_log_output() -> Iterator[io.StringIO]:
    """What the kit's own handler writes (the production pipeline: its formatter, redaction
    included), captured in memory instead of stderr. Enter it after `create_app`, which
    installs that handler."""
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, KitLogHandler)]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        if previous is not None:
            handler.setStream(previous)


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Each line parsed: fails if any line is not one JSON object."""
    lines = [orjson.loads(text) for text in buffer.getvalue().splitlines()]
    assert all(isinstance(line, dict) for line in lines)
    return lines


@dataclass
class Exchange:
    """What a raw ASGI app sent back for one request."""

    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.messages[0].get("headers", []))

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def http_scope(
    headers: Sequence[tuple[bytes, bytes]] = (), method: str = "GET", path: str = "/"
) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def call_asgi(app: ASGIApp, scope: Scope, body_chunks: Sequence[bytes] = (b"",)) -> Exchange:
    """Drives `app` with `scope`, feeding `body_chunks` as the request body."""
    pending: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(body_chunks) - 1}
        for i, chunk in enumerate(body_chunks)
    ]
    exchange = Exchange()

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        exchange.messages.append(message)

    await app(scope, receive, send)
    return exchange


def responder(
    status: int = 200,
    body: bytes = b"ok",
    *,
    before: Callable[[Scope], Awaitable[None]] | None = None,
) -> ASGIApp:
    """A raw ASGI app answering `status`/`body` after reading the whole request body."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if before is not None:
            await before(scope)
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


@contextmanager
def restored_logging() -> Iterator[None]:
    """Puts back the kit's handler and the root and kit levels as they were:
    `configure_logging` (every `create_app`) changes them for the whole process. Other
    handlers (pytest's, added and removed per test phase) are left alone."""
    root, kit = logging.getLogger(), logging.getLogger("apiforge")
    levels = (root.level, kit.level)
    ours = [h for h in root.handlers if isinstance(h, KitLogHandler)]
    try:
        yield
    finally:
        root.setLevel(levels[0])
        kit.setLevel(levels[1])
        for handler in [h for h in root.handlers if isinstance(h, KitLogHandler)]:
            root.removeHandler(handler)
        for handler in ours:
            root.addHandler(handler)
