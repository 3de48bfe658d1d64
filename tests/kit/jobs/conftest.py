"""Job tests: the test service of `app.py` on a SQLite file and this worker's Redis database
(flushed around each test), with backoffs of milliseconds."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from apiforge.kit import JobQueue, JobsSettings, Settings, app_state
from apiforge.kit.testing import running_app
from tests.kit.apps import kit_settings, restored_logging
from tests.kit.jobs.app import jobs_app

FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02}


def job_settings(database_url: str, redis_url: str, **jobs: Any) -> Settings:
    section = JobsSettings(**{"enabled": True, "broker": "memory", **FAST, **jobs})
    return kit_settings(
        database_url, redis_url=redis_url, jobs=section, loop_lag={"enabled": False}
    )


@pytest.fixture
def jobs_db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
async def in_process(jobs_db: str, redis_url: str, redis_client: Any) -> AsyncIterator[FastAPI]:
    """The test service running, its jobs on the in-process broker."""
    with restored_logging():
        app = jobs_app(job_settings(jobs_db, redis_url))
        async with running_app(app):
            yield app


def queue_of(app: FastAPI) -> JobQueue:
    queue = app_state(app).jobs
    assert queue is not None
    return queue
