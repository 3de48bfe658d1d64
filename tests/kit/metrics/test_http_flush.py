"""The HTTP metrics are counted in plain Python and pushed by a flush: afterwards the exposition
holds exactly what was observed (counts, sums, cumulative buckets, a duration on a bound and one
in +Inf), in one process and in multiprocess mode, each request once; a scrape and the
lifespan's exit flush; prometheus_client's internals that the flush writes to keep their shape."""

import math
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from prometheus_client import generate_latest

from apiforge.kit.asgi import Scope
from apiforge.kit.metrics import AppMetrics, app_metrics, build_metrics
from apiforge.kit.metrics import sampler as sampler_module
from apiforge.kit.metrics.http import HttpMetrics
from apiforge.kit.metrics.registry import HTTP_DURATION_BUCKETS
from tests.kit.apps import kit_app, serve
from tests.kit.metrics.scrape import Samples, parse, scrape, value

REQUESTS = "apiforge_http_requests_total"
DURATION = "apiforge_http_request_duration_seconds"
ROUTE = "/items/{item_id}"
BOUNDS = (*HTTP_DURATION_BUCKETS, math.inf)
# Below the first bound; exactly on bounds (le is inclusive: 0.1, 2.5 and 10 s each count in
# their own bucket); between two; above the last (in +Inf only).
DURATIONS = (0.0004, 0.001, 0.1, 0.1, 0.3, 2.5, 10.0, 12.5)


@pytest.fixture(params=["one process", "multiprocess"])
def metrics(request: pytest.FixtureRequest) -> AppMetrics:
    multiprocess = request.param == "multiprocess"
    if multiprocess:
        request.getfixturevalue("multiproc_dir")
    built = build_metrics(version="test")
    assert built.multiprocess == multiprocess
    return built


def request_scope(route: str = ROUTE) -> Scope:
    return {"type": "http", "method": "GET", "route": SimpleNamespace(path=route), "state": {}}


def exposition(metrics: AppMetrics) -> Samples:
    """What a scrape would show, collected without the endpoint (which would flush)."""
    return parse(generate_latest(metrics.registry).decode())


def le(bound: float) -> str:
    return "+Inf" if bound == math.inf else str(bound)


def buckets(samples: Samples, route: str = ROUTE) -> dict[str, float]:
    bucket = f"{DURATION}_bucket"
    return {le(b): value(samples, bucket, method="GET", route=route, le=le(b)) for b in BOUNDS}


def assert_histogram(samples: Samples, durations: Sequence[float], route: str = ROUTE) -> None:
    """Prometheus' definition: each bucket counts the durations <= its bound."""
    assert buckets(samples, route) == {le(b): sum(d <= b for d in durations) for b in BOUNDS}
    labels = {"method": "GET", "route": route}
    assert value(samples, f"{DURATION}_count", **labels) == len(durations)
    assert value(samples, f"{DURATION}_sum", **labels) == pytest.approx(sum(durations))


def test_a_flush_exposes_exactly_what_was_observed(metrics: AppMetrics) -> None:
    http = HttpMetrics(metrics)
    for duration in DURATIONS:
        http.request_finished(request_scope(), 200, duration)
    http.request_finished(request_scope(), 404, 0.25)
    ok = {"method": "GET", "route": ROUTE, "status": "200"}
    assert value(exposition(metrics), REQUESTS, **ok) == 0  # nothing written before the flush
    http.flush()
    samples = exposition(metrics)
    assert value(samples, REQUESTS, **ok) == len(DURATIONS)
    assert value(samples, REQUESTS, **{**ok, "status": "404"}) == 1
    assert_histogram(samples, [*DURATIONS, 0.25])  # one histogram over both statuses
    counts = buckets(samples)
    assert counts["0.1"] - counts["0.05"] == 2  # both 0.1 s requests, on the bound
    assert counts["10.0"] - counts["5.0"] == 1  # 10 s exactly
    assert counts["+Inf"] - counts["10.0"] == 1  # 12.5 s


def test_each_flush_adds_only_what_came_since_the_last(metrics: AppMetrics) -> None:
    http = HttpMetrics(metrics)
    for duration in DURATIONS[:3]:
        http.request_finished(request_scope(), 200, duration)
    http.flush()
    http.flush()  # nothing new: adds nothing
    assert_histogram(exposition(metrics), DURATIONS[:3])
    for duration in DURATIONS[3:]:
        http.request_finished(request_scope(), 200, duration)
    http.flush()
    samples = exposition(metrics)
    assert_histogram(samples, DURATIONS)
    ok = {"method": "GET", "route": ROUTE, "status": "200"}
    assert value(samples, REQUESTS, **ok) == len(DURATIONS)


def test_prometheus_client_keeps_the_shape_the_flush_writes_to(metrics: AppMetrics) -> None:
    """A guard on private API (HttpMetrics.flush): if an upgrade of prometheus_client fails
    this, the flush must be rewritten for the new internals."""
    child = metrics.http_duration.labels("GET", "/shape")
    assert list(child._upper_bounds) == list(BOUNDS)
    assert len(child._buckets) == len(BOUNDS)
    child.observe(0.1)
    # One value object per bucket, counted per bucket (cumulated only when collected).
    assert [cell.get() for cell in child._buckets] == [float(b == 0.1) for b in BOUNDS]
    assert child._sum.get() == 0.1

    http = HttpMetrics(metrics)
    observed = metrics.http_duration.labels("GET", "/observed")
    for duration in DURATIONS:
        http.request_finished(request_scope("/pushed"), 200, duration)
        observed.observe(duration)
    http.flush()
    samples = exposition(metrics)
    assert buckets(samples, "/pushed") == buckets(samples, "/observed")
    assert_histogram(samples, DURATIONS, "/pushed")
    assert_histogram(samples, DURATIONS, "/observed")


@pytest.fixture
def no_periodic_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sampler's task never gets to run during the test: what is pushed, a scrape or the
    lifespan's exit pushed."""
    monkeypatch.setattr(sampler_module, "SAMPLE_SECONDS", 3600.0)


@pytest.mark.usefixtures("no_periodic_sample")
async def test_a_scrape_shows_the_requests_without_waiting(sqlite_url: str) -> None:
    app = kit_app(sqlite_url)
    metrics = app_metrics(app)
    assert metrics is not None
    ok = {"method": "GET", "route": "/health/live", "status": "200"}
    async with serve(app) as client:
        for _ in range(3):
            assert (await client.get("/health/live")).status_code == 200
        assert value(exposition(metrics), REQUESTS, **ok) == 0
        samples = await scrape(client)
    assert value(samples, REQUESTS, **ok) == 3
    assert value(samples, f"{DURATION}_count", method="GET", route="/health/live") == 3


@pytest.mark.usefixtures("no_periodic_sample")
async def test_the_lifespan_exit_pushes_the_last_requests(sqlite_url: str) -> None:
    app = kit_app(sqlite_url)
    metrics = app_metrics(app)
    assert metrics is not None
    async with serve(app) as client:
        for _ in range(2):
            assert (await client.get("/health/live")).status_code == 200
    ok = {"method": "GET", "route": "/health/live", "status": "200"}
    assert value(exposition(metrics), REQUESTS, **ok) == 2
