"""The front cache serves a cached GET before routing, with the route's own entry, ETag and
tags; it never leaks its internal header and falls through when the entry is gone."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Request, Response

from apiforge.kit import app_state, create_app
from apiforge.kit.access_log import ACCESS_LOGGER
from apiforge.kit.cache import PRIVATE_NO_STORE, cached_json, public_max_age
from apiforge.kit.cache.front import CACHE_HEADER, FrontCache, front_cache_entry
from tests.kit.apps import json_lines, kit_log_output, kit_settings, restored_logging, serve

TAGS = ("things",)
calls: list[str] = []
router = APIRouter()


@router.get("/things/{name}")
async def thing(name: str, request: Request) -> Response:
    calls.append(name)
    cache = app_state(request.app).cache
    assert cache is not None

    async def render() -> bytes:
        return b'{"name": "%s"}' % name.encode()

    key = f"thing:{name}"
    rendered = await cached_json(cache, key, render, ttl=60, tags=TAGS)
    private = "authorization" in request.headers
    return rendered.response(
        if_none_match=request.headers.get("if-none-match"),
        cache_control=PRIVATE_NO_STORE if private else public_max_age(5),
        front_cache=front_cache_entry(key, TAGS),
    )


@router.get("/things-uncached/{name}")
async def uncached(name: str) -> dict[str, str]:
    calls.append(f"uncached {name}")
    return {"name": name}


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    calls.clear()
    front = FrontCache(prefixes=("/things",), public_cache_control=public_max_age(5))
    app = create_app(kit_settings(sqlite_url), routers=[router], front_cache=front)
    async with serve(app) as http:
        yield http


async def test_a_repeated_get_is_served_before_routing(client: httpx.AsyncClient) -> None:
    first = await client.get("/things/a")
    second = await client.get("/things/a")
    assert calls == ["a"]
    assert second.status_code == 200
    assert second.content == first.content == b'{"name": "a"}'
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == "public, max-age=5"
    assert second.headers["content-type"] == "application/json"
    assert CACHE_HEADER.decode() not in first.headers
    assert CACHE_HEADER.decode() not in second.headers
    assert "x-request-id" in second.headers  # the outer middleware still runs


async def test_the_raw_query_string_is_part_of_the_key(client: httpx.AsyncClient) -> None:
    await client.get("/things/a")
    await client.get("/things/a?x=1")
    assert calls == ["a", "a"]


async def test_authorization_and_if_none_match_on_a_hit(client: httpx.AsyncClient) -> None:
    etag = (await client.get("/things/a")).headers["etag"]
    private = await client.get("/things/a", headers={"authorization": "Bearer x"})
    assert private.headers["cache-control"] == PRIVATE_NO_STORE
    not_modified = await client.get("/things/a", headers={"if-none-match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert calls == ["a"]


async def test_an_invalidated_entry_falls_through_to_the_route(sqlite_url: str) -> None:
    calls.clear()
    front = FrontCache(prefixes=("/things",), public_cache_control=public_max_age(5))
    app = create_app(kit_settings(sqlite_url), routers=[router], front_cache=front)
    async with serve(app) as http:
        await http.get("/things/a")
        await http.get("/things/a")
        cache = app_state(app).cache
        assert cache is not None
        await cache.invalidate_tags(*TAGS)
        await http.get("/things/a")
        await http.get("/things/a")
    assert calls == ["a", "a"]


async def test_only_opted_in_gets_are_remembered(client: httpx.AsyncClient) -> None:
    await client.get("/things-uncached/a")
    await client.get("/things-uncached/a")
    await client.post("/things/a")
    assert calls == ["uncached a", "uncached a"]


async def test_any_unicode_in_the_key(client: httpx.AsyncClient) -> None:
    """The key travels in an internal header: a search term in any script must not break it."""
    for _ in range(2):
        response = await client.get("/things/\U000c9809-ünï|x")
        assert response.status_code == 200
    assert calls == ["\U000c9809-ünï|x"]


async def test_hits_are_marked_for_the_access_log_which_samples_them(sqlite_url: str) -> None:
    """The route's answer gets its line; of the front-cache hits after it, at one line per
    1,000 s, only the first does."""
    calls.clear()
    front = FrontCache(prefixes=("/things",), public_cache_control=public_max_age(5))
    settings = kit_settings(sqlite_url, access_log_hit_lines_per_second=0.001)
    with restored_logging():
        app = create_app(settings, routers=[router], front_cache=front)
        with kit_log_output() as output:
            async with serve(app) as http:
                for _ in range(4):
                    assert (await http.get("/things/a")).status_code == 200
    lines = [line for line in json_lines(output) if line["logger"] == ACCESS_LOGGER]
    assert calls == ["a"]
    assert [(line["route"], line.get("represents")) for line in lines] == [
        ("/things/{name}", None),
        ("/things/{name}", None),
    ]
