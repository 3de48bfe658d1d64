"""`apiforge scheduler`: two running at once send each tick of a scheduled job once (the tick is
claimed in Redis); the tick arithmetic; with the in-process broker, the schedule run inside
the serving process (`jobs.embedded_scheduler`)."""

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from taskiq import ScheduledTask

from apiforge.kit.jobs.scheduler import tick_of
from apiforge.kit.testing import running_app
from tests.kit.apps import restored_logging
from tests.kit.jobs.app import jobs_app
from tests.kit.jobs.conftest import job_settings, queue_of
from tests.kit.jobs.processes import apiforge, service_env

RUN_SECONDS = 3.0


@pytest.fixture
def sync_redis(redis_url: str) -> Any:
    client = Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


def test_two_schedulers_send_each_tick_once(
    tmp_path: Path, jobs_db: str, redis_url: str, sync_redis: Any
) -> None:
    queue = f"apiforge-test:{uuid.uuid4().hex}:jobs"
    env = service_env(jobs_db, redis_url, queue) | {"APIFORGE_JOBS__HEALTH_PORT": "0"}
    with (
        apiforge(["scheduler"], env, tmp_path / "a.log") as first,
        apiforge(["scheduler"], env, tmp_path / "b.log") as second,
    ):
        first.wait_for_line("scheduler started")
        second.wait_for_line("scheduler started")
        time.sleep(RUN_SECONDS)  # both tick every second meanwhile
        assert first.terminate() == 0
        assert second.terminate() == 0
    sent = [
        line["tick"]
        for process in (first, second)
        for line in process.lines()
        if line["event"] == "scheduled job sent"
    ]
    messages = sync_redis.xlen(queue)
    # Each scheduler alone would have sent about RUN_SECONDS ticks: together, once each.
    assert messages == len(sent) == len(set(sent))
    assert RUN_SECONDS - 1 <= messages <= RUN_SECONDS + 4  # startup of the later one included


def test_a_tick_is_the_cron_minute_or_the_interval_slot() -> None:
    cron = ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, cron="*/5 * * * *")
    assert tick_of(cron, 120.0) == (2, 60)
    assert tick_of(cron, 179.9) == (2, 60)
    every = ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, interval=10)
    assert tick_of(every, 119.6) == (12, 10)  # taskiq ticks on whole seconds: 120 s
    assert tick_of(every, 109.4) == (10, 10)
    delta = ScheduledTask(
        task_name="t", labels={}, args=[], kwargs={}, interval=timedelta(seconds=30)
    )
    assert tick_of(delta, 61.0) == (2, 30)


async def test_the_in_process_broker_runs_the_schedule_in_the_serving_process(
    jobs_db: str, redis_url: str, redis_client: Any
) -> None:
    settings = job_settings(jobs_db, redis_url, embedded_scheduler=True)
    with restored_logging():
        app = jobs_app(settings)
        async with running_app(app):
            assert _schedule_tasks() == 1
            registry = queue_of(app).metrics_registry
            labels = {"job": "tests.tick"}
            async with asyncio.timeout(10):  # every second: a bound, not a measurement
                while True:
                    if registry.get_sample_value("apiforge_jobs_succeeded_total", labels):
                        break
                    await asyncio.sleep(0.1)
        assert _schedule_tasks() == 0


async def test_tests_run_no_schedule_unless_asked(
    jobs_db: str, redis_url: str, redis_client: Any
) -> None:
    with restored_logging():
        async with running_app(jobs_app(job_settings(jobs_db, redis_url))):
            assert _schedule_tasks() == 0


def _schedule_tasks() -> int:
    return sum(1 for task in asyncio.all_tasks() if task.get_name() == "jobs-schedule")
