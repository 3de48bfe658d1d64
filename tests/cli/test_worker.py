"""`apiforge jobs failed|retry` in process, on the in-process broker (the worker's commands run
as real processes in tests/kit/jobs): a dead letter is listed, retried once (its job runs
again inside the command), and a second retry is refused."""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from apiforge.kit import app_state
from apiforge.kit.testing import running_app
from tests.cli.conftest import invoke
from tests.kit.apps import restored_logging
from tests.kit.jobs.app import always_fails, jobs_app
from tests.kit.jobs.conftest import job_settings, queue_of

APP = "tests.kit.jobs.app:create_jobs_app"


async def _dead_letter(database_url: str, redis_url: str, key: str) -> int:
    app = jobs_app(job_settings(database_url, redis_url))
    async with running_app(app):
        queue = queue_of(app)
        await queue.send(always_fails, key=key)
        await queue.wait_idle()
        assert queue.dead_letters is not None
        [dead] = await queue.dead_letters.list()
        assert app_state(app).jobs is queue
        return dead.id


@pytest.mark.usefixtures("clean_env")
def test_a_dead_letter_is_listed_and_retried_once(tmp_path: Path, redis_url: str) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    key = f"cli-{uuid.uuid4().hex}"
    env = {
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_JOBS__ENABLED": "true",
        "APIFORGE_JOBS__BROKER": "memory",
        "APIFORGE_JOBS__BACKOFF_BASE_SECONDS": "0.01",
        "APIFORGE_LOOP_LAG__ENABLED": "false",
    }
    redis: Any = Redis.from_url(redis_url, socket_timeout=5)
    try:
        with restored_logging():
            dead_id = asyncio.run(_dead_letter(database_url, redis_url, key))
            code, listed, _ = invoke(["jobs", "failed", "--app", APP], env)
            assert code == 0
            assert listed.startswith(f"{dead_id}\ttests.always_fails\t3 attempts\t")
            assert listed.rstrip().endswith("FlakyError: never works")
            code, out, _ = invoke(["jobs", "retry", str(dead_id), "--app", APP], env)
            assert (code, out) == (0, f"Sent dead letter {dead_id} again.\n")
            # The in-process broker ran it inside the command: three more attempts.
            assert int(redis.get(f"{key}:runs")) == 6
            code, _, err = invoke(["jobs", "retry", str(dead_id), "--app", APP], env)
            assert code == 1
            assert f"no dead letter {dead_id} waiting to be retried" in err
            code, listed_all, _ = invoke(["jobs", "failed", "--all", "--app", APP], env)
            assert code == 0
            assert len(listed_all.splitlines()) == 2  # the retried one and its new letter
            assert " retried " in listed_all
    finally:
        redis.delete(f"{key}:runs")
        redis.close()
