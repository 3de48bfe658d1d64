"""Admin-only profile of one request: with `X-Profile: 1` (or `?profile=1`) and an access
token carrying the admin role, the answer is pyinstrument's HTML profile of that request in
place of its normal response; the route still runs once underneath, side effects and all.
Installed only when `settings.profiling_enabled` (off in production unless set), and only then
is pyinstrument imported. Not for: continuous or fleet-wide profiling (use a sampling
profiler such as py-spy on the process)."""

from urllib.parse import parse_qsl, urlencode

import anyio.to_thread

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.errors import UnauthenticatedError
from apiforge.kit.problems import send_problem
from apiforge.kit.state import current_state

FLAG_HEADER = b"x-profile"
FLAG_QUERY = "profile"
PROFILED_STATUS_HEADER = b"x-profiled-status"


def profile_requested(scope: Scope) -> bool:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == FLAG_HEADER:
            return value == b"1"
    query: bytes = scope.get("query_string", b"")
    # The substring test keeps the parse off every request that has a query string.
    return b"profile=" in query and (FLAG_QUERY, "1") in parse_qsl(query.decode("latin-1"))


def _strip_flag(scope: Scope) -> None:
    """The route (and the front cache's key) see the request as it would be unprofiled."""
    query: bytes = scope.get("query_string", b"")
    if b"profile=" in query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        kept = [(key, value) for key, value in pairs if key != FLAG_QUERY]
        scope["query_string"] = urlencode(kept).encode("latin-1")


def _bearer_token(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token:
                return token.decode("latin-1")
    return None


class ProfilingMiddleware:
    """Sits just outside the error boundary: a request that fails still comes back as its
    profile (its status in `X-Profiled-Status`). The flag without an admin token is refused
    with 403 rather than ignored, so an admin whose token has expired learns why no profile
    came back instead of mistaking the normal answer for one that was not profiled."""

    def __init__(self, app: ASGIApp, *, admin_role: str, interval: float = 0.001) -> None:
        # pyinstrument is imported on the first profile; `create_app` has already refused to
        # build an app with profiling on and pyinstrument missing (kit.startup).
        self.app = app
        self.admin_role = admin_role
        self.interval = interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not profile_requested(scope):
            await self.app(scope, receive, send)
            return
        if not self._is_admin(scope):
            await _deny(send)
            return
        _strip_flag(scope)
        await self._profile(scope, receive, send)

    def _is_admin(self, scope: Scope) -> bool:
        token = _bearer_token(scope)
        state = current_state(scope["app"])
        if token is None or state is None:
            return False
        try:
            return state.tokens.verify(token).role == self.admin_role
        except UnauthenticatedError:  # invalid or expired: not an admin
            return False

    async def _profile(self, scope: Scope, receive: Receive, send: Send) -> None:
        from pyinstrument import Profiler

        status = 500  # if the app raises before answering

        async def swallow(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        # Async mode follows this request's task across awaits and reports the time spent
        # waiting (on the database, Redis) at the await that waited.
        profiler = Profiler(interval=self.interval, async_mode="enabled")
        profiler.start()
        try:
            await self.app(scope, receive, swallow)
        finally:
            profiler.stop()
        # Rendering takes milliseconds of CPU: kept off the event loop.
        html = (await anyio.to_thread.run_sync(profiler.output_html)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(html)).encode()),
                    (b"cache-control", b"no-store"),
                    (PROFILED_STATUS_HEADER, str(status).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": html})


async def _deny(send: Send) -> None:
    await send_problem(
        send,
        status=403,
        code="auth.permission_denied",
        detail="Profiling a request needs an access token with the admin role.",
    )
