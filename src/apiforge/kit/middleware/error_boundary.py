"""Last line of defence: an exception nothing else handled becomes a logged 500 problem+json
that reveals nothing. Sits inside the request-ID middleware so both the log line and the
answer carry the ID. Not for: expected errors (those are `AppError`s with handlers)."""

import logging

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.errors import AppError
from apiforge.kit.problems import INTERNAL_DETAIL, send_problem

logger = logging.getLogger("apiforge.errors")


class ErrorBoundaryMiddleware:
    """Named apart from Starlette's own `ServerErrorMiddleware`, which still wraps the app
    outside this one (and then never sees an exception)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # the boundary that turns any bug into a 500 (logged with traceback)
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # headers are out; the server must cut the connection
            await send_problem(
                send,
                status=500,
                code=AppError.code,
                detail=INTERNAL_DETAIL,
            )
