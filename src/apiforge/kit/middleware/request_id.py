"""Takes a sane incoming `X-Request-ID` or makes one, echoes it, and binds it for log lines.
Not for: logging itself (the access log reads the bound ID)."""

import re
import uuid

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.request_context import bind_request_id, reset_request_id

HEADER = b"x-request-id"
# Length- and charset-checked: anything else could forge log lines or blow up header sizes.
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None


class RequestIDMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = bind_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)
