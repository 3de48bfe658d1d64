"""Refuses requests whose `Host` is not one of the service's names (400 problem+json), so
that links, redirects and cache keys built from it cannot be poisoned through a forged Host.
Patterns are exact names or `*.example.com` for any subdomain. Not for: routing by host."""

from collections.abc import Sequence

from apiforge.kit.asgi import ASGIApp, Receive, Scope, Send
from apiforge.kit.problems import send_problem


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        names = [host.lower() for host in allowed_hosts]
        self.exact = frozenset(name for name in names if not name.startswith("*."))
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def allows(self, host: str) -> bool:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.lower()
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        await send_problem(
            send, status=400, code="request.host_not_allowed", detail="Unknown host."
        )
