"""`apiforge worker` as real processes on the real Redis: SIGTERM with jobs in flight lets them
finish and leaves the rest queued (none lost, none run twice to completion); the probes and
/metrics answer; two processes under the supervisor share the queue, stop together, and the
supervisor's /metrics sums their figures."""

import asyncio
import signal
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from apiforge.kit.testing import running_app
from tests.kit.jobs.app import jobs_app, slow
from tests.kit.jobs.conftest import job_settings, queue_of
from tests.kit.jobs.processes import apiforge, service_env, wait_until

JOBS = 8
RUNNING = 3


async def _send(
    database_url: str, redis_url: str, queue: str, job: Any, count: int, **kwargs: Any
) -> None:
    app = jobs_app(job_settings(database_url, redis_url, broker="redis", queue=queue))
    async with running_app(app):
        for _ in range(count):
            await queue_of(app).send(job, **kwargs)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape_depth(port: int) -> float | None:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/metrics", timeout=5
    ) as metrics:  # loopback
        return _samples(metrics.read().decode()).get(("apiforge_jobs_queue_depth", ()))


@pytest.fixture
def queue() -> str:
    return f"apiforge-test:{uuid.uuid4().hex}:jobs"


@pytest.fixture
def sync_redis(redis_url: str) -> Any:
    client = Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


def test_sigterm_finishes_the_jobs_in_flight_and_leaves_the_rest_queued(
    tmp_path: Path, jobs_db: str, redis_url: str, sync_redis: Any, queue: str
) -> None:
    key = f"slow-{uuid.uuid4().hex}"
    asyncio.run(_send(jobs_db, redis_url, queue, slow, JOBS, key=key, seconds=1.5))
    env = service_env(jobs_db, redis_url, queue)
    args = ["worker", "--concurrency", str(RUNNING), "--drain-timeout", "30", "--health-port", "0"]
    with apiforge(args, env, tmp_path / "first.log") as first:
        started = first.wait_for_line("worker started")
        base = f"http://127.0.0.1:{started['health_port']}"
        with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as ready:  # noqa: S310  # loopback
            assert ready.status == 200
        wait_until(lambda: sync_redis.scard(f"{key}:started") >= 1, "a job running", first)
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as metrics:  # noqa: S310  # loopback
            text = metrics.read().decode()
        assert 'apiforge_jobs_started_total{job="tests.slow"}' in text
        assert "apiforge_jobs_queue_depth" in text
        wait_until(
            lambda: sync_redis.scard(f"{key}:started") >= RUNNING, "three jobs running", first
        )
        assert first.terminate() == 0
    # The three in flight finished; nothing else was started or taken.
    done = sync_redis.hgetall(f"{key}:done")
    assert sorted(done.values()) == [b"1"] * RUNNING
    assert sync_redis.scard(f"{key}:started") == RUNNING
    [group] = sync_redis.xinfo_groups(queue)
    assert (group["pending"], group["lag"]) == (0, JOBS - RUNNING)

    with apiforge(args, env, tmp_path / "second.log") as second:
        wait_until(lambda: sync_redis.hlen(f"{key}:done") == JOBS, "every job done", second)
        assert second.terminate() == 0
    assert sorted(sync_redis.hgetall(f"{key}:done").values()) == [b"1"] * JOBS


def test_a_job_of_a_killed_worker_is_redelivered_and_completed_once(
    tmp_path: Path, jobs_db: str, redis_url: str, sync_redis: Any, queue: str
) -> None:
    key = f"killed-{uuid.uuid4().hex}"
    asyncio.run(_send(jobs_db, redis_url, queue, slow, 1, key=key, seconds=3))
    env = service_env(jobs_db, redis_url, queue) | {"APIFORGE_JOBS__REDELIVERY_AFTER_SECONDS": "1"}
    args = ["worker", "--health-port", "0"]
    with apiforge(args, env, tmp_path / "killed.log") as killed:
        wait_until(lambda: sync_redis.scard(f"{key}:started") == 1, "the job running", killed)
        killed.popen.send_signal(signal.SIGKILL)
        killed.popen.wait(timeout=30)
    assert sync_redis.hlen(f"{key}:done") == 0
    with apiforge(args, env, tmp_path / "second.log") as second:
        wait_until(lambda: sync_redis.hlen(f"{key}:done") == 1, "the job redelivered", second)
        assert second.terminate() == 0
    assert list(sync_redis.hgetall(f"{key}:done").values()) == [b"1"]


def test_two_processes_under_a_supervisor_share_the_queue_and_stop_together(
    tmp_path: Path, jobs_db: str, redis_url: str, sync_redis: Any, queue: str
) -> None:
    key = f"pair-{uuid.uuid4().hex}"
    asyncio.run(_send(jobs_db, redis_url, queue, slow, JOBS, key=key, seconds=1.5))
    env = service_env(jobs_db, redis_url, queue)
    args = ["worker", "--processes", "2", "--concurrency", "2", "--health-port", "0"]
    with apiforge(args, env, tmp_path / "pair.log") as pair:
        port = pair.wait_for_line("worker supervisor started")["health_port"]
        wait_until(lambda: sync_redis.hlen(f"{key}:done") == JOBS, "every job done", pair)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/health/ready", timeout=5
        ) as ready:  # loopback
            assert ready.status == 200
        # The supervisor's /metrics sums both processes: every job once, whoever ran it.
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/metrics", timeout=5
        ) as metrics:  # loopback
            samples = _samples(metrics.read().decode())
        assert samples[("apiforge_jobs_succeeded_total", (("job", "tests.slow"),))] == JOBS
        assert samples[("apiforge_jobs_started_total", (("job", "tests.slow"),))] == JOBS
        # Sampled by the processes themselves (nobody scrapes them): the queue is drained.
        wait_until(
            lambda: _scrape_depth(port) == 0, "the supervisor's queue depth sampled at 0", pair
        )
        assert pair.terminate() == 0
        stopped = [line for line in pair.lines() if line["event"] == "worker stopped"]
    assert len(stopped) == 2  # each process drained and stopped on the forwarded SIGTERM
    assert sync_redis.scard(f"{key}:pids") == 2
    assert sorted(sync_redis.hgetall(f"{key}:done").values()) == [b"1"] * JOBS
