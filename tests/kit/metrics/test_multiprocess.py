"""Multiprocess mode in one test process: two "workers" (value classes with their own pids)
writing to one directory, aggregated by the registry a scrape or a separate port uses; dead
workers' live gauges swept away while their counts stay."""

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import generate_latest, values

from apiforge.kit import app_state
from apiforge.kit.metrics import (
    AppMetrics,
    build_metrics,
    multiprocess_mode,
    multiprocess_registry,
    sweep_dead_processes,
)
from apiforge.kit.metrics.multiprocess import _alive
from apiforge.kit.metrics.sampler import MetricsSampler
from tests.kit.apps import capture_kit_logs, kit_app, serve
from tests.kit.metrics.scrape import parse, scrape, total, value

# Above any kernel's pid_max (4,194,304 at most): never a live process.
DEAD_PIDS = (9_999_991, 9_999_992)
Worker = Callable[[int], AppMetrics]


@pytest.fixture
def worker(multiproc_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Worker:
    def start(pid: int) -> AppMetrics:
        # prometheus_client's multiprocess module is unannotated.
        value_class = values.MultiProcessValue(lambda: pid)  # type: ignore[no-untyped-call]
        monkeypatch.setattr(values, "ValueClass", value_class)
        return build_metrics(version="1.2.3")

    return start


def test_the_mode_is_read_from_prometheus_client(multiproc_dir: Path) -> None:
    assert multiprocess_mode()
    assert build_metrics(version="x").multiprocess


def test_this_process_is_alive() -> None:
    assert _alive(os.getpid())
    assert not _alive(DEAD_PIDS[0])


def test_workers_are_aggregated(multiproc_dir: Path, worker: Worker) -> None:
    one, two = worker(DEAD_PIDS[0]), worker(DEAD_PIDS[1])
    for metrics, served in ((one, 3), (two, 2)):
        metrics.http_requests.labels("GET", "/items/{id}", "200").inc(served)
        metrics.http_in_progress.set(1)
        metrics.pool_size.set(5)
    samples = parse(generate_latest(multiprocess_registry(str(multiproc_dir))).decode())
    ok = {"method": "GET", "route": "/items/{id}", "status": "200"}
    assert value(samples, "apiforge_http_requests_total", **ok) == 5
    assert value(samples, "apiforge_http_requests_in_progress") == 2
    assert value(samples, "apiforge_db_pool_size") == 10
    # build_info keeps one series per worker: the pids that are alive.
    pids = {dict(labels).get("pid") for name, labels in samples if name == "apiforge_build_info"}
    assert pids == {str(pid) for pid in DEAD_PIDS}

    assert sweep_dead_processes(str(multiproc_dir)) == list(DEAD_PIDS)
    samples = parse(generate_latest(multiprocess_registry(str(multiproc_dir))).decode())
    assert value(samples, "apiforge_http_requests_total", **ok) == 5  # counts never go back
    assert value(samples, "apiforge_http_requests_in_progress") == 0
    assert total(samples, "apiforge_build_info") == 0


def test_the_sampler_sweeps_when_it_knows_the_directory(
    multiproc_dir: Path, worker: Worker
) -> None:
    worker(DEAD_PIDS[0]).http_in_progress.set(4)
    metrics = worker(DEAD_PIDS[1])
    live_gauges = sorted(multiproc_dir.glob("gauge_live*"))
    assert live_gauges
    MetricsSampler(metrics, in_flight={}, multiproc_dir=None).sweep()
    assert sorted(multiproc_dir.glob("gauge_live*")) == live_gauges
    MetricsSampler(metrics, in_flight={}, multiproc_dir=str(multiproc_dir)).sweep()
    assert list(multiproc_dir.glob("gauge_live*")) == []


def test_a_failed_sweep_is_logged_not_raised(
    multiproc_dir: Path, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    """E.g. another worker removed the file first: the sampler keeps running."""
    metrics = worker(DEAD_PIDS[0])
    (multiproc_dir / f"gauge_livesum_{DEAD_PIDS[1]}.db").mkdir()  # cannot be removed as a file
    with capture_kit_logs(caplog):
        MetricsSampler(metrics, in_flight={}, multiproc_dir=str(multiproc_dir)).sweep()
    assert [r.name for r in caplog.records] == ["apiforge.metrics"]


async def test_the_running_sampler_samples_and_sweeps(
    multiproc_dir: Path, worker: Worker, sqlite_url: str
) -> None:
    worker(DEAD_PIDS[0]).http_in_progress.set(1)
    metrics = worker(os.getpid())  # alive: its own files stay
    sampler = MetricsSampler(
        metrics, in_flight={1: {}}, multiproc_dir=str(multiproc_dir), interval=0.001
    )
    sampler.sample()  # before the app runs: what it can see without the app state
    app = kit_app(sqlite_url)
    async with serve(app), sampler.running(app_state(app)):
        for _ in range(1000):
            if not any(str(DEAD_PIDS[0]) in name for name in os.listdir(multiproc_dir)):
                break
            await asyncio.sleep(0.005)
    names = os.listdir(multiproc_dir)
    assert not any(
        f"live{mode}_{DEAD_PIDS[0]}" in name for name in names for mode in ("sum", "all")
    )
    samples = parse(generate_latest(multiprocess_registry(str(multiproc_dir))).decode())
    assert value(samples, "apiforge_db_pool_size") == 20  # sampled from the app's pool


async def test_an_app_scrapes_the_shared_files(multiproc_dir: Path, sqlite_url: str) -> None:
    async with serve(kit_app(sqlite_url)) as client:
        for _ in range(3):
            await client.get("/health/live")
        samples = await scrape(client)
    ok = {"method": "GET", "route": "/health/live", "status": "200"}
    assert value(samples, "apiforge_http_requests_total", **ok) == 3
    assert any(name.startswith("counter_") for name in os.listdir(multiproc_dir))
