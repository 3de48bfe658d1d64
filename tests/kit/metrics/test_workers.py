"""Uvicorn workers in multiprocess mode: requests spread over two are reported exactly once,
summed, whichever worker answers the scrape; a worker that stops has pushed all it counted."""

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from apiforge.kit.metrics import multiprocess_registry
from tests.kit.metrics.scrape import Samples, parse, total, value
from tests.live_server import live_shop_server, scratch_database

REQUESTS = 40  # each on a fresh connection, spread by the kernel over both workers
ROUTE = {"method": "GET", "route": "/api/products/{product_id}", "status": "200"}
SCRAPES = {"method": "GET", "route": "/metrics", "status": "200"}


def per_worker_counts(directory: Path, route: dict[str, str]) -> dict[str, float]:
    """The route's count in each worker's own counter file (counter_<pid>.db), where it has one:
    which workers served it."""
    counts = {}
    for file in directory.glob("counter_*.db"):
        merged = MultiProcessCollector.merge([str(file)])  # type: ignore[no-untyped-call]  # unannotated
        counts[file.stem] = value(parse_metrics(merged), "apiforge_http_requests_total", **route)
    return {pid: count for pid, count in counts.items() if count}


def parse_metrics(metrics: Iterable[Metric]) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for metric in metrics
        for sample in metric.samples
    }


def scrape_until(base_url: str, done: Callable[[Samples], bool]) -> Samples:
    """Scrapes on fresh connections (either worker) until `done`; workers count a request just
    after its last byte went out, so a scrape may run a moment before the count lands."""
    deadline = time.monotonic() + 10
    while True:
        samples = parse(httpx.get(f"{base_url}/metrics", timeout=5).text)
        if done(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def test_two_workers_report_every_request_once(postgres_admin: str, tmp_path: Path) -> None:
    multiproc_dir = tmp_path / "metrics"
    multiproc_dir.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        "APIFORGE_METRICS__MULTIPROC_DIR": str(multiproc_dir),
    }
    with (
        scratch_database("postgres", tmp_path, postgres_admin) as url,
        live_shop_server(url, workers=2, env=env) as base_url,
    ):
        for _ in range(REQUESTS):
            assert httpx.get(f"{base_url}/api/products/1", timeout=5).status_code == 200

        def counted(samples: Samples) -> bool:
            return value(samples, "apiforge_http_requests_total", **ROUTE) >= REQUESTS

        samples = scrape_until(base_url, counted)
        assert value(samples, "apiforge_http_requests_total", **ROUTE) == REQUESTS
        served = per_worker_counts(multiproc_dir, ROUTE)
        assert len(served) == 2  # both workers served some
        assert sum(served.values()) == REQUESTS
        # Scrapes on fresh connections until each worker has answered one (a scrape counts
        # itself in the worker that serves it, pushed to its file at that worker's next scrape
        # or sample: the pauses cover a sampling interval): the same sum from either.
        for _ in range(40):
            samples = parse(httpx.get(f"{base_url}/metrics", timeout=5).text)
            assert value(samples, "apiforge_http_requests_total", **ROUTE) == REQUESTS
            if len(per_worker_counts(multiproc_dir, SCRAPES)) == 2:
                break
            time.sleep(0.05)
        assert len(per_worker_counts(multiproc_dir, SCRAPES)) == 2
        assert total(samples, "apiforge_build_info") == 2  # one series per live worker
        # Gauges summed over live workers: each has a pool of the default 20.
        pools = scrape_until(base_url, lambda s: value(s, "apiforge_db_pool_size") == 40)
        assert value(pools, "apiforge_db_pool_size") == 40


def test_a_worker_pushes_its_last_requests_as_it_exits(tmp_path: Path) -> None:
    """Counted in the worker and pushed at each sample: the requests of its last second are
    pushed by the lifespan's exit, which uvicorn runs on SIGTERM before the process ends."""
    multiproc_dir = tmp_path / "metrics"
    multiproc_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
    with (
        scratch_database("sqlite", tmp_path, None) as url,
        live_shop_server(url, env=env) as base_url,
        httpx.Client(base_url=base_url, timeout=5) as client,
    ):
        for _ in range(REQUESTS):
            assert client.get("/api/products/1").status_code == 200
    # Stopped (SIGTERM) right after the last request: no scrape, most likely no sample since.
    samples = parse(generate_latest(multiprocess_registry(str(multiproc_dir))).decode())
    assert value(samples, "apiforge_http_requests_total", **ROUTE) == REQUESTS
