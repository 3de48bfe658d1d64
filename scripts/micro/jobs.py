"""Job queue figures on the real Redis broker and one real `apiforge worker` process:

- throughput: N no-op jobs queued first, then one worker process (its default concurrency)
  runs them; jobs per second from the worker's first to its last completion (its /metrics);
- commit-to-start latency: with the worker idle, jobs enqueued after commits of real SQLite
  transactions at a steady rate; each job notes when it started, the script when the commit
  returned; p50 / p99 of the difference.

Run: .venv/bin/python scripts/micro/jobs.py [--jobs 5000] [--rate 50] [--seconds 10]
(APIFORGE_REDIS_URL, default redis://127.0.0.1:6379/0; the queue is a fresh one, deleted after).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from apiforge.kit import (
    Environment,
    JobContext,
    JobRegistry,
    JobsSettings,
    LoopLagSettings,
    Settings,
    after_commit,
    app_state,
    create_app,
)
from apiforge.kit.testing import running_app

ROOT = Path(__file__).parents[2]
APP = "scripts.micro.jobs:create_bench_app"
JOBS = JobRegistry()


@JOBS.job("bench.noop", max_attempts=1)
async def noop(ctx: JobContext, i: int) -> None:
    """Nothing: what a job costs the queue and the worker."""


@JOBS.job("bench.started", max_attempts=1)
async def started(ctx: JobContext, key: str, i: int) -> None:
    now = time.time()
    assert ctx.state.redis is not None
    await ctx.state.redis.hset(key, str(i), repr(now))


def create_bench_app() -> FastAPI:
    return create_app(Settings(), title="jobs-bench", jobs=JOBS)


def _env(database_url: str, redis_url: str, queue: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_JOBS__ENABLED": "true",
        "APIFORGE_JOBS__BROKER": "redis",
        "APIFORGE_JOBS__QUEUE": queue,
        "APIFORGE_JOBS__HEALTH_PORT": str(port),
        "APIFORGE_LOG_LEVEL": "WARNING",
        "APIFORGE_LOOP_LAG__ENABLED": "false",
    }


def _succeeded(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("apiforge_jobs_succeeded_total{")
    )


def _wait_for(port: int, count: int, process: subprocess.Popen[bytes]) -> tuple[float, float]:
    """(time of the first completion seen, time the count was reached)."""
    first = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the worker ended")
        try:
            done = _succeeded(port)
        except OSError:
            time.sleep(0.05)
            continue
        now = time.monotonic()
        if done and first is None:
            first = now
        if done >= count:
            return first or now, now
        time.sleep(0.02)
    raise SystemExit("timed out")


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603  # our own argv
        [sys.executable, "-m", "apiforge", "worker", "--app", APP], cwd=ROOT, env=env
    )


async def _queue_noops(settings: Settings, count: int) -> None:
    app = create_app(settings, jobs=JOBS)
    async with running_app(app):
        queue = app_state(app).jobs
        assert queue is not None
        for i in range(count):
            await queue.send(noop, i=i)


async def _latency(settings: Settings, rate: float, seconds: float, key: str) -> list[float]:
    app = create_app(settings, jobs=JOBS)
    committed: dict[int, float] = {}
    async with running_app(app):
        state = app_state(app)
        queue = state.jobs
        assert queue is not None
        assert state.redis is not None
        count = int(rate * seconds)
        for i in range(count):
            async with state.database.transaction() as session:
                # Registered first, so it runs first once the commit returned, before the send.
                after_commit(session, partial(_note, committed, i))
                queue.enqueue(session, started, key=key, i=i)
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(2)
        starts = {int(k): float(v) for k, v in (await state.redis.hgetall(key)).items()}
    return sorted(starts[i] - committed[i] for i in starts)


async def _note(committed: dict[int, float], i: int) -> None:
    committed[i] = time.time()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    redis_url = os.environ.get("APIFORGE_REDIS_URL", "redis://127.0.0.1:6379/0")
    queue_name = f"bench-{uuid.uuid4().hex[:8]}:jobs"
    port = 18081
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
        env = _env(database_url, redis_url, queue_name, port)
        settings = Settings(
            _env_file=None,
            environment=Environment.TEST,
            database_url=database_url,
            redis_url=redis_url,
            jobs=JobsSettings(enabled=True, broker="redis", queue=queue_name, health_port=None),
            loop_lag=LoopLagSettings(enabled=False),
            log_level="WARNING",
        )
        try:
            asyncio.run(_queue_noops(settings, args.jobs))
            worker = _worker(env)
            try:
                first, last = _wait_for(port, args.jobs, worker)
                print(
                    f"throughput: {args.jobs} no-op jobs in {last - first:.2f} s = "
                    f"{(args.jobs - 1) / (last - first):.0f} jobs/s (one worker process)"
                )
                key = f"{queue_name}:started"
                latencies = asyncio.run(_latency(settings, args.rate, args.seconds, key))
                ms = [value * 1000 for value in latencies]
                p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
                print(
                    f"commit-to-start: {len(ms)} jobs at {args.rate:g}/s: "
                    f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms"
                )
            finally:
                worker.terminate()
                worker.wait(timeout=60)
        finally:
            asyncio.run(_drop(redis_url, queue_name))


async def _drop(redis_url: str, queue_name: str) -> None:
    client: Any = Redis.from_url(redis_url)
    await client.delete(queue_name, f"{queue_name}:started")
    await client.aclose()


if __name__ == "__main__":
    main()
