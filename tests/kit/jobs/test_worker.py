"""`apiforge worker` as real processes on the real Redis: SIGTERM with jobs in flight lets them
finish and leaves the rest queued (none lost, none run twice to completion); the probes answer;
a dead letter is listed and retried through the CLI."""

import asyncio
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from apiforge.kit.testing import running_app
from tests.kit.jobs.app import always_fails, jobs_app, slow
from tests.kit.jobs.conftest import job_settings, queue_of
from tests.kit.jobs.processes import APP, ROOT, apiforge, service_env, wait_until

JOBS = 8
RUNNING = 3


async def _send(
    database_url: str, redis_url: str, queue: str, job: Any, count: int, **kwargs: Any
) -> None:
    app = jobs_app(job_settings(database_url, redis_url, broker="redis", queue=queue))
    async with running_app(app):
        for _ in range(count):
            await queue_of(app).send(job, **kwargs)


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


def test_a_dead_letter_is_listed_and_retried_from_the_command_line(
    tmp_path: Path, jobs_db: str, redis_url: str, sync_redis: Any, queue: str
) -> None:
    key = f"dead-{uuid.uuid4().hex}"
    env = service_env(jobs_db, redis_url, queue)
    asyncio.run(_send(jobs_db, redis_url, queue, always_fails, 1, key=key))
    with apiforge(["worker", "--health-port", "0"], env, tmp_path / "worker.log") as worker:
        wait_until(lambda: worker_line(worker, "job dead-lettered"), "a dead letter", worker)
        listed = _cli(["jobs", "failed"], env)
        dead_id = listed.split("\t", 1)[0]
        assert "tests.always_fails\t3 attempts" in listed
        assert "FlakyError: never works" in listed
        assert _cli(["jobs", "retry", dead_id], env) == f"Sent dead letter {dead_id} again.\n"
        wait_until(lambda: int(sync_redis.get(f"{key}:runs") or 0) == 6, "three more runs", worker)
        assert worker.terminate() == 0
    again = subprocess.run(  # noqa: S603  # our own argv
        [sys.executable, "-m", "apiforge", "jobs", "retry", dead_id, "--app", APP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert f"no dead letter {dead_id} waiting to be retried" in again.stderr


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
        assert pair.terminate() == 0
        stopped = [line for line in pair.lines() if line["event"] == "worker stopped"]
    assert len(stopped) == 2  # each process drained and stopped on the forwarded SIGTERM
    assert sync_redis.scard(f"{key}:pids") == 2
    assert sorted(sync_redis.hgetall(f"{key}:done").values()) == [b"1"] * JOBS


def worker_line(worker: Any, event: str) -> bool:
    return any(line["event"] == event for line in worker.lines())


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603  # our own argv
        [sys.executable, "-m", "apiforge", *args, "--app", APP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout
