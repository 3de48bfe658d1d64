"""RED metrics by route template: the shop's requests are counted under their templates (never
a raw path), unmatched ones under "<unmatched>", with the latency histogram's contract buckets;
each app counts only its own requests, however many apps one process builds."""

import asyncio

import httpx
import pytest
from fastapi import APIRouter

from apiforge.kit.metrics.registry import HTTP_DURATION_BUCKETS
from tests.kit.apps import kit_app, serve
from tests.kit.metrics.scrape import Samples, parse, scrape, total, value

REQUESTS = "apiforge_http_requests_total"
DURATION = "apiforge_http_request_duration_seconds"
IN_PROGRESS = "apiforge_http_requests_in_progress"
DETAIL = "/api/products/{product_id}"


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_shop_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    assert (await client.get("/api/products/999999")).status_code == 404
    assert (await client.get("/api/products/not-a-number")).status_code == 422
    assert (await client.get("/api/no-such-thing")).status_code == 404
    for _ in range(2):  # the second may be answered by the front cache: same route
        assert (await client.get("/api/products")).status_code == 200
    after = await scrape(client)

    def counted(route: str, status: str) -> float:
        return delta(before, after, REQUESTS, method="GET", route=route, status=status)

    assert counted(DETAIL, "404") == 1
    assert counted(DETAIL, "422") == 1
    assert counted("<unmatched>", "404") == 1
    assert counted("/api/products", "200") == 2
    assert delta(before, after, f"{DURATION}_count", method="GET", route=DETAIL) == 2
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and "999999" in route for route in routes)  # no raw path, ever


async def test_the_latency_histogram_has_the_contract_buckets(client: httpx.AsyncClient) -> None:
    await client.get("/health/live")
    samples = await scrape(client)
    bounds = {
        dict(labels)["le"]
        for name, labels in samples
        if name == f"{DURATION}_bucket" and dict(labels)["route"] == "/health/live"
    }
    assert bounds == {*(str(float(b)) for b in HTTP_DURATION_BUCKETS), "+Inf"}


def waiting_router(entered: asyncio.Event, release: asyncio.Event) -> APIRouter:
    router = APIRouter()

    @router.get("/wait")
    async def wait() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {}

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return router


async def test_requests_in_progress_are_sampled_at_each_scrape(sqlite_url: str) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    async with serve(kit_app(sqlite_url, waiting_router(entered, release))) as client:
        waiting = asyncio.create_task(client.get("/wait"))
        await entered.wait()
        assert value(await scrape(client), IN_PROGRESS) == 2  # /wait, and the scrape itself
        release.set()
        assert (await waiting).status_code == 200
        assert value(await scrape(client), IN_PROGRESS) == 1


async def test_methods_outside_http_are_counted_as_other(sqlite_url: str) -> None:
    router = waiting_router(asyncio.Event(), asyncio.Event())
    async with serve(kit_app(sqlite_url, router)) as client:
        assert (await client.request("BREW", "/items/1")).status_code == 405
        samples = await scrape(client)
    assert value(samples, REQUESTS, method="OTHER", route="/items/{item_id}", status="405") == 1


async def test_each_app_counts_its_own_requests(sqlite_url: str) -> None:
    router = waiting_router(asyncio.Event(), asyncio.Event())
    first, second = kit_app(sqlite_url, router), kit_app(sqlite_url, router)
    async with serve(first) as one, serve(second) as two:
        for _ in range(3):
            await one.get("/items/1")
        await two.get("/items/2")
        seen_by_one, seen_by_two = await scrape(one), await scrape(two)
    labels = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    assert value(seen_by_one, REQUESTS, **labels) == 3
    assert value(seen_by_two, REQUESTS, **labels) == 1


@pytest.mark.parametrize("accept", ["", "application/openmetrics-text; version=1.0.0"])
async def test_the_build_info_is_exposed_in_either_format(sqlite_url: str, accept: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        response = await client.get("/metrics", headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept.split(";")[0] or "text/plain")
    info = total(parse(response.text), "apiforge_build_info")
    assert info == 1
