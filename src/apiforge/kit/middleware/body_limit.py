"""Refuses request bodies above a byte limit with 413, by declared length or while streaming,
before the handler reads them; exact paths may be given a larger (or smaller) allowance, such as
a bulk import. Not for: limits on parsed content (row counts, field sizes: the route's schema)."""

from collections.abc import Mapping

from starlette.exceptions import HTTPException

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.errors import PayloadTooLargeError
from apiforge.kit.problems import send_problem


class BodyLimitMiddleware:
    """`max_bytes` applies to every path except those in `overrides` (exact path -> limit)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, overrides: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.overrides.get(scope["path"], self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._refuse(send, max_bytes)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # An HTTPException passes through FastAPI's body parsing unchanged
                    # (any other exception there becomes a 400).
                    raise HTTPException(413, f"The body exceeds {max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        await send_problem(
            send,
            status=413,
            code=PayloadTooLargeError.code,
            detail=f"The body exceeds {max_bytes} bytes.",
            headers=[(b"connection", b"close")],
        )
