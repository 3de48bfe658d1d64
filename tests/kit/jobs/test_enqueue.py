"""Enqueueing after the commit: a rolled-back unit of work sends nothing, a committed one sends
exactly once; jobs off send nothing; a job of another registry is refused."""

from typing import Any

import pytest
from fastapi import FastAPI

from apiforge.kit import JobRegistry, UnknownJobError, app_state
from apiforge.kit.testing import running_app
from tests.kit.jobs.app import flaky, jobs_app
from tests.kit.jobs.conftest import job_settings, queue_of


class RefusedError(Exception):
    pass


async def test_a_rolled_back_unit_of_work_sends_nothing(
    in_process: FastAPI, redis_client: Any
) -> None:
    queue = queue_of(in_process)
    database = app_state(in_process).database

    async def refused_request() -> None:
        async with database.transaction() as session:
            queue.enqueue(session, flaky, key="rolled", failures=0)
            raise RefusedError

    with pytest.raises(RefusedError):
        await refused_request()
    async with database.transaction() as session:
        queue.enqueue(session, flaky, key="kept", failures=0)
        assert await redis_client.get("kept:runs") is None  # not before the commit
    await queue.wait_idle()
    assert await redis_client.get("rolled:runs") is None
    assert int(await redis_client.get("kept:runs")) == 1
    sent = queue.metrics_registry.get_sample_value(
        "apiforge_jobs_enqueued_total", {"job": "tests.flaky"}
    )
    assert sent == 1


async def test_jobs_turned_off_send_nothing(
    jobs_db: str, redis_url: str, redis_client: Any
) -> None:
    app = jobs_app(job_settings(jobs_db, redis_url, enabled=False))
    async with running_app(app):
        queue = queue_of(app)
        async with app_state(app).database.transaction() as session:
            queue.enqueue(session, flaky, key="off", failures=0)
        await queue.wait_idle()
    assert await redis_client.get("off:runs") is None


async def test_a_job_the_service_did_not_declare_is_refused(in_process: FastAPI) -> None:
    stranger = JobRegistry().job("tests.flaky")(flaky.handler)
    with pytest.raises(UnknownJobError):
        await queue_of(in_process).send(stranger, key="x", failures=0)
