"""The RabbitMQ broker (taskiq-aio-pika), selected by setting, on the RabbitMQ this machine
runs: a job sent through it is run by a real worker process, retried, and completed once."""

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from apiforge.kit.testing import require_tcp, running_app
from tests.kit.jobs.app import flaky, jobs_app
from tests.kit.jobs.conftest import job_settings, queue_of
from tests.kit.jobs.processes import apiforge, service_env, wait_until

RABBITMQ_URL = os.environ.get("APIFORGE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture
def rabbitmq_url() -> str:
    require_tcp("RabbitMQ", RABBITMQ_URL)
    return RABBITMQ_URL


async def _send(database_url: str, redis_url: str, queue: str, key: str) -> None:
    settings = job_settings(
        database_url, redis_url, broker="rabbitmq", url=RABBITMQ_URL, queue=queue
    )
    app = jobs_app(settings)
    async with running_app(app):
        await queue_of(app).send(flaky, key=key, failures=1)


def test_a_job_runs_through_rabbitmq(
    tmp_path: Path, jobs_db: str, redis_url: str, rabbitmq_url: str
) -> None:
    queue = f"apiforge-test.{uuid.uuid4().hex}.jobs"
    key = f"rabbit-{uuid.uuid4().hex}"
    env = {
        **service_env(jobs_db, redis_url, queue),
        "APIFORGE_JOBS__BROKER": "rabbitmq",
        "APIFORGE_JOBS__URL": rabbitmq_url,
    }
    redis: Any = Redis.from_url(redis_url, socket_timeout=5)
    try:
        with apiforge(["worker", "--health-port", "0"], env, tmp_path / "worker.log") as worker:
            worker.wait_for_line("worker started")  # its queue is declared: sends are kept
            asyncio.run(_send(jobs_db, redis_url, queue, key))
            wait_until(lambda: redis.hlen(f"{key}:done") == 1, "the job done", worker)
            assert worker.terminate() == 0
        assert int(redis.get(f"{key}:runs")) == 2  # failed once, retried
    finally:
        redis.close()
        asyncio.run(_delete(queue))


async def _delete(queue: str) -> None:
    """The test's queues and exchange go (durable: they would outlive the test)."""
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=10)
    async with connection:
        channel = await connection.channel()
        for name in (queue, f"{queue}.dead_letter"):
            await channel.queue_delete(name)
        await channel.exchange_delete(queue)
