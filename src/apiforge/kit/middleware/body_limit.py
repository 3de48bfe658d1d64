"""Refuses requests too large to handle before anything parses them: a URL over its bound
(414), header lines over theirs (431), and bodies above a byte limit (413), by declared length
or while streaming; exact paths may be given a larger (or smaller) allowance, such as
a bulk import. The client gets to read the 413: the rest of the body is read and discarded
first, for a bounded time and size (nginx's lingering close), since closing a socket with
unread data makes the kernel send a reset, which most clients report instead of the answer.
A client that sent `Expect: 100-continue` gets the 413 before it sends the body. A body must
also have arrived whole `body_seconds` after the app first asked for it (else 408 and the
connection closes): a client dribbling a body would otherwise hold its request as long as it
likes. Not for:
limits on parsed content (row counts, field sizes: the route's schema)."""

import asyncio
from collections.abc import Mapping

from starlette.exceptions import HTTPException

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.errors import PayloadTooLargeError
from apiforge.kit.problems import send_problem

# What is drained before answering at most: past either bound the connection is closed as it is.
DRAIN_MAX_BYTES = 256 * 1024 * 1024
DRAIN_MAX_SECONDS = 5.0


async def drain(receive: Receive, *, max_bytes: int, max_seconds: float) -> bool:
    """Read and discard the rest of the request body; True once it has all arrived, False
    when a bound was hit or the client went away."""
    discarded = 0
    try:
        # One deadline for the whole read (not a wait_for per chunk: a task each, and 100 MB
        # is 1,600 chunks of the server's 64 KiB).
        async with asyncio.timeout(max_seconds):
            while discarded <= max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    return False
                discarded += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        return False
    return False


def _expects_continue(scope: Scope) -> bool:
    return any(
        name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"]
    )


class BodyLimitMiddleware:
    """`max_bytes` applies to every path except those in `overrides` (exact path -> limit);
    `max_header_bytes` bounds the header lines (names and values), `max_url_bytes` the path
    and query; `drain_bytes` and `drain_seconds` bound the lingering read before a 413;
    `body_seconds` bounds the whole body's read (408 past it)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        overrides: Mapping[str, int] | None = None,
        max_header_bytes: int = 16 * 1024,
        max_url_bytes: int = 8 * 1024,
        drain_bytes: int = DRAIN_MAX_BYTES,
        drain_seconds: float = DRAIN_MAX_SECONDS,
        body_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})
        self.max_header_bytes = max_header_bytes
        self.max_url_bytes = max_url_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.overrides.get(scope["path"], self.max_bytes)
        refusal = self._check_head(scope, max_bytes)
        if refusal is not None:
            # Reading would make the server send "100 Continue": answer before it.
            if refusal[0] == 413 and not _expects_continue(scope):
                await self._drain(receive)
            await self._refuse(send, *refusal)
            return
        body = _LimitedBody(self, receive, max_bytes)
        await self.app(scope, body.receive, send)

    def _check_head(self, scope: Scope, max_bytes: int) -> tuple[int, str, str] | None:
        """(status, code, detail) of what the URL and headers alone refuse, or None."""
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        if len(path) + len(scope["query_string"]) > self.max_url_bytes:
            return 414, "request.uri_too_long", "The URL is too long."
        header_bytes, declared = 0, 0
        for name, value in scope["headers"]:
            header_bytes += len(name) + len(value)
            if name == b"content-length" and value.isdigit():
                declared = int(value)
        if header_bytes > self.max_header_bytes:
            detail = f"The request's headers exceed {self.max_header_bytes} bytes."
            return 431, "request.headers_too_large", detail
        if declared > max_bytes:
            return 413, PayloadTooLargeError.code, _too_large(max_bytes)
        return None

    async def _drain(self, receive: Receive) -> None:
        await drain(receive, max_bytes=self.drain_bytes, max_seconds=self.drain_seconds)

    async def _refuse(self, send: Send, status: int, code: str, detail: str) -> None:
        await send_problem(
            send, status=status, code=code, detail=detail, headers=[(b"connection", b"close")]
        )


class _LimitedBody:
    """One request's `receive`, counted against its byte limit and its read deadline (which
    starts when the app first asks for the body)."""

    def __init__(self, limits: BodyLimitMiddleware, receive: Receive, max_bytes: int) -> None:
        self.limits = limits
        self.inner = receive
        self.max_bytes = max_bytes
        self.received = 0
        self.deadline: float | None = None
        self.complete = False

    async def receive(self) -> Message:
        if self.complete:  # only a disconnect can come now: no deadline on waiting for it
            return await self.inner()
        if self.deadline is None:
            self.deadline = asyncio.get_running_loop().time() + self.limits.body_seconds
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self.inner()
        except TimeoutError:
            detail = f"The body did not arrive within {self.limits.body_seconds:g} s."
            raise HTTPException(408, detail, headers={"Connection": "close"}) from None
        if message["type"] == "http.request":
            self.complete = not message.get("more_body", False)
            self.received += len(message.get("body", b""))
            if self.received > self.max_bytes:
                if not self.complete:
                    await self.limits._drain(self.inner)
                # An HTTPException passes through FastAPI's body parsing unchanged
                # (any other exception there becomes a 400).
                detail = _too_large(self.max_bytes)
                raise HTTPException(413, detail, headers={"Connection": "close"})
        return message


def _too_large(max_bytes: int) -> str:
    return f"The body exceeds {max_bytes} bytes."
