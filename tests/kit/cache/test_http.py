"""HTTP caching of rendered JSON: ETags, If-None-Match (lists, W/, *), 304 and headers."""

import pytest

from apiforge.kit.cache import (
    PRIVATE_NO_STORE,
    MemoryCache,
    RenderedJson,
    cached_json,
    etag_for,
    if_none_match_matches,
    public_max_age,
)

BODY = b'{"items":[{"id":1,"name":"Tea"}],"next_cursor":null}'


def test_the_etag_is_strong_quoted_and_stable_for_the_same_bytes() -> None:
    etag = etag_for(BODY)
    assert etag == etag_for(bytes(BODY))
    assert etag[0] == etag[-1] == '"'
    assert len(etag) == 34  # quoted 128-bit hex, no W/ prefix
    assert etag != etag_for(BODY + b" ")


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ("*", True),
        (" * ", True),
        ("{etag}", True),
        ("W/{etag}", True),
        ('"other", {etag}', True),
        ('"other",W/{etag} ,"more"', True),
        ('"other"', False),
        ('"other", W/"other2"', False),
        ("{bare}", False),  # unquoted is not the same entity tag
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    etag = etag_for(BODY)
    if header is not None:
        header = header.format(etag=etag, bare=etag.strip('"'))
    assert if_none_match_matches(header, etag) is matches


def test_a_match_answers_304_with_no_body_and_the_caching_headers() -> None:
    rendered = RenderedJson.of(BODY)
    response = rendered.response(
        if_none_match=f'"x", W/{rendered.etag}', cache_control=public_max_age(30)
    )
    assert response.status_code == 304
    assert response.body == b""
    assert response.headers["etag"] == rendered.etag
    assert response.headers["cache-control"] == "public, max-age=30"
    assert "content-length" not in response.headers


def test_no_match_answers_200_with_the_bytes() -> None:
    rendered = RenderedJson.of(BODY)
    response = rendered.response(if_none_match='"stale"', cache_control=PRIVATE_NO_STORE)
    assert response.status_code == 200
    assert response.body == BODY
    assert response.headers["content-type"] == "application/json"
    assert response.headers["etag"] == rendered.etag
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-length"] == str(len(BODY))


def test_packing_round_trips_any_body() -> None:
    for body in (BODY, b"", b"line one\nline two\n", b"\x00\xff"):
        rendered = RenderedJson.of(body)
        assert RenderedJson.unpack(rendered.pack()) == rendered
    with pytest.raises(ValueError, match="not a packed"):
        RenderedJson.unpack(b"no newline here")


async def test_cached_json_renders_and_hashes_once() -> None:
    cache = MemoryCache()
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        return BODY

    first = await cached_json(cache, "page:1", render, ttl=10, tags=["catalog"])
    second = await cached_json(cache, "page:1", render, ttl=10, tags=["catalog"])
    assert first == second == RenderedJson(BODY, etag_for(BODY))
    assert renders == 1
    assert await cache.get("page:1", tags=["catalog"]) == first.pack()


async def test_entries_written_together_expire_spread_out() -> None:
    """A jittered TTL: 50 entries written at once all live at least 80 % of their TTL, all
    are gone by its end, and they do not all go in the same instant."""
    from apiforge.kit.cache import MemoryCache, cached_json

    now = [0.0]
    cache = MemoryCache(clock=lambda: now[0])

    async def render() -> bytes:
        return b"{}"

    for i in range(50):
        await cached_json(cache, f"k{i}", render, ttl=10.0)

    async def alive() -> int:
        return sum([await cache.get(f"k{i}") is not None for i in range(50)])

    now[0] = 7.99
    assert await alive() == 50
    now[0] = 9.0
    assert 0 < await alive() < 50
    now[0] = 10.0
    assert await alive() == 0


async def test_without_jitter_entries_written_together_expire_together() -> None:
    """`jitter=0` (`APIFORGE_CACHE__TTL_JITTER=0`, the bench's baseline for the p99): every
    entry lives its whole TTL, then all go at once."""
    from apiforge.kit.cache import MemoryCache, cached_json
    from apiforge.kit.settings import CacheSettings

    assert CacheSettings().ttl_jitter == 0.2
    assert CacheSettings(ttl_jitter=0).ttl_jitter == 0
    now = [0.0]
    cache = MemoryCache(clock=lambda: now[0])

    async def render() -> bytes:
        return b"{}"

    for i in range(50):
        await cached_json(cache, f"k{i}", render, ttl=10.0, jitter=0.0)
    now[0] = 9.99
    assert all([await cache.get(f"k{i}") is not None for i in range(50)])
    now[0] = 10.0
    assert not any([await cache.get(f"k{i}") is not None for i in range(50)])
