"""HTTP caching of rendered JSON: strong ETags, `If-None-Match` -> 304, `Cache-Control`, and
the framing that stores body and ETag together so a cache hit neither re-serialises nor
re-hashes. Not for: deciding what is cacheable (the caller picks key, TTL and tags)."""

import hashlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.responses import Response

from apiforge.kit.cache.protocol import CacheBackend

PRIVATE_NO_STORE = "private, no-store"
# The internal header by which a route tells the front layer which entry answered (stripped
# there, never sent to a client).
FRONT_CACHE_HEADER = "x-apiforge-cache"
_JSON = "application/json"


def public_max_age(seconds: int) -> str:
    """`Cache-Control` for anonymous reads that shared caches may keep `seconds`."""
    return f"public, max-age={seconds}"


def private_no_store() -> str:
    """`Cache-Control` for answers that belong to the caller (anything sent with an
    `Authorization` header): no client or shared cache may keep them."""
    return PRIVATE_NO_STORE


def etag_for(body: bytes) -> str:
    """A strong ETag (quoted) of the bytes: blake2b, 128 bits, hex."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 section 13.1.2: `*` matches any current representation; otherwise any listed
    tag matching by weak comparison (a `W/` prefix on either side is ignored)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == wanted for candidate in header.split(","))


@dataclass(frozen=True, slots=True)
class RenderedJson:
    """Rendered JSON bytes and their ETag, framed for the cache as `etag + b"\\n" + body`
    (an ETag never contains a newline)."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> "RenderedJson":
        return cls(body, etag_for(body))

    def pack(self) -> bytes:
        return self.etag.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, data: bytes) -> "RenderedJson":
        etag, newline, body = data.partition(b"\n")
        if not newline:
            raise ValueError("not a packed RenderedJson")
        return cls(body, etag.decode())

    def response(
        self, *, if_none_match: str | None, cache_control: str, front_cache: str | None = None
    ) -> Response:
        """304 with an empty body when `if_none_match` matches, else 200 with the body; both
        carry `ETag` and `Cache-Control`. `front_cache` (see `front_cache_entry`) names the
        cache entry this answer came from, for the front layer to serve the next one."""
        headers = {"etag": self.etag, "cache-control": cache_control}
        if front_cache is not None:
            headers[FRONT_CACHE_HEADER] = front_cache
        if if_none_match_matches(if_none_match, self.etag):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=_JSON, headers=headers)


# The share of an entry's TTL that `cached_json` may take off (see there).
TTL_JITTER = 0.2


async def cached_json(
    cache: CacheBackend,
    key: str,
    render: Callable[[], Awaitable[bytes]],
    *,
    ttl: float,
    tags: Sequence[str] = (),
    jitter: float = TTL_JITTER,
) -> RenderedJson:
    """The rendered JSON for `key` from `cache`, or `render()`'s bytes (hashed once, then
    cached with their ETag). Single-flight and error handling are the cache's. Each entry
    lives `ttl` less up to `jitter` of it, drawn per write: entries filled together (after
    an invalidation, a restart) then expire spread out, not all in one instant whose reloads
    queue behind each other and make the read's p99."""

    async def load() -> bytes:
        return RenderedJson.of(await render()).pack()

    lifetime = ttl * (1.0 - jitter * random.random())  # noqa: S311  # spreading, not secrecy
    return RenderedJson.unpack(await cache.get_or_load(key, load, ttl=lifetime, tags=tags))
