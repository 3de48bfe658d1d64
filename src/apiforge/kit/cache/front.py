"""Serves cached GET answers before the framework: routing, dependency solving and parameter
validation are skipped on a hit. Not for: deciding what is cacheable, or storing anything
(how a route opts in: `FrontCacheMiddleware`)."""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.cache.http import (
    FRONT_CACHE_HEADER,
    PRIVATE_NO_STORE,
    RenderedJson,
    if_none_match_matches,
)
from apiforge.kit.cache.stats import CacheStats
from apiforge.kit.route_template import CACHE_HIT_STATE, ROUTE_TEMPLATE_STATE, route_template
from apiforge.kit.state import current_state

CACHE_HEADER = FRONT_CACHE_HEADER.encode()
_MAX_ROUTES = 50_000


@dataclass(frozen=True, slots=True)
class FrontCache:
    """Which GET path prefixes the front layer serves, and the `Cache-Control` of an anonymous
    hit (an `Authorization` header always gets `private, no-store`)."""

    prefixes: tuple[str, ...]
    public_cache_control: str


def front_cache_entry(key: str, tags: Sequence[str]) -> str:
    """What a cached route passes as `RenderedJson.response(front_cache=...)` to let the
    front layer answer the next identical GET from the entry `key` (read with `tags`).
    The internal header value a route sets to opt in. The key is hex-encoded: it may hold
    any Unicode (a search term), and header values are Latin-1; tags contain no `|`."""
    return "|".join((key.encode().hex(), *tags))


class _Route(NamedTuple):
    key: str
    tags: tuple[str, ...]
    template: str


class FrontCacheMiddleware:
    """A route opts in by answering through `RenderedJson.response(...,
    front_cache=front_cache_entry(key, tags))`, which adds an internal header naming the cache
    entry (and its tags) it was served from; this layer strips that header and remembers, in a
    bounded in-process map, which entry answers this exact path and raw query string. The next
    identical GET reads that entry with `cache.get(key, tags=...)`, so tag invalidation, TTLs
    and Redis work exactly as for the route; an entry gone (expired or invalidated) falls
    through to the route, which reloads it. The map itself never goes stale: the same raw
    request always validates to the same entry. A hit is reported (access log, metrics) under
    the template of the route that first answered.

    `stats`: hits (answered here) and misses (GETs under the prefixes that went on to the
    route), read by the metrics sampler; pass one to read it, the middleware being built lazily
    by Starlette."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefixes: Sequence[str],
        public_cache_control: str,
        stats: CacheStats | None = None,
    ) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.public = public_cache_control.encode()
        self.stats = stats or CacheStats("front")
        self.routes: OrderedDict[bytes, _Route] = OrderedDict()

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
        if route is not None and await self._serve_hit(scope, send, route):
            self.stats.hits += 1
            return
        self.stats.misses += 1
        await self.app(scope, receive, self._remembering(scope, request_key, send))

    async def _serve_hit(self, scope: Scope, send: Send, route: _Route) -> bool:
        state = current_state(scope["app"])
        cache = state.cache if state is not None else None
        packed = await cache.get(route.key, tags=route.tags) if cache is not None else None
        if packed is None:
            return False
        state = scope.setdefault("state", {})
        state[ROUTE_TEMPLATE_STATE] = route.template
        state[CACHE_HIT_STATE] = True
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

    def _remembering(self, scope: Scope, request_key: bytes, send: Send) -> Send:
        async def send_and_remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = []
                for name, value in message.get("headers", ()):
                    if name == CACHE_HEADER:
                        if message["status"] in (200, 304):
                            key, *tags = value.decode("latin-1").split("|")
                            # The router has matched by now: scope["route"] is set.
                            route = _Route(
                                bytes.fromhex(key).decode(), tuple(tags), route_template(scope)
                            )
                            self._remember(request_key, route)
                    else:
                        kept.append((name, value))
                message["headers"] = kept
            await send(message)

        return send_and_remember

    def _remember(self, request_key: bytes, route: _Route) -> None:
        self.routes[request_key] = route
        self.routes.move_to_end(request_key)
        if len(self.routes) > _MAX_ROUTES:
            self.routes.popitem(last=False)
