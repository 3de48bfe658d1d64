"""A running service's job queue: its jobs registered on the taskiq broker, `enqueue` sending
one only after the caller's transaction commits (with the request ID and trace context as
message labels), and the dead letters sent again. Built by the lifespan; reach it as
`app_state(app).jobs` or the `Jobs` dependency. Not for: running messages (kit.jobs.runner,
kit.jobs.worker)."""

import asyncio
import logging
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.kicker import AsyncKicker

from apiforge.kit.db.unit_of_work import after_commit
from apiforge.kit.jobs.broker import build_broker
from apiforge.kit.jobs.dead_letters import DeadJob, DeadLetterStore
from apiforge.kit.jobs.metrics import JobMetrics, build_job_metrics
from apiforge.kit.jobs.registry import Job, JobRegistry
from apiforge.kit.jobs.runner import (
    ENQUEUED_AT_LABEL,
    REQUEST_ID_LABEL,
    TRACEPARENT_LABEL,
    Delivery,
    JobRunner,
)
from apiforge.kit.request_context import current_request_id

if TYPE_CHECKING:
    from apiforge.kit.state import AppState

logger = logging.getLogger("apiforge.jobs")


class UnknownJobError(LookupError):
    """A name no registered job has (a dead letter of a job since removed)."""


class JobQueue:
    """`registry`'s jobs on the broker the settings choose. `dead_jobs`: the service's mapped
    `DeadJobMixin` class (None: dead letters are only logged). With `settings.jobs.enabled`
    off, `enqueue` sends nothing (a deployment that measures or runs without jobs)."""

    def __init__(
        self,
        state: "AppState",
        registry: JobRegistry,
        *,
        dead_jobs: type[Any] | None = None,
        registry_for_metrics: CollectorRegistry | None = None,
    ) -> None:
        settings = state.settings
        self.settings = settings.jobs
        self.registry = registry
        self.broker: AsyncBroker = build_broker(settings)
        self.metrics_registry = registry_for_metrics or CollectorRegistry()
        self.metrics: JobMetrics = build_job_metrics(
            self.metrics_registry, settings.metrics.namespace
        )
        self.dead_letters = (
            DeadLetterStore(dead_jobs, state.database) if dead_jobs is not None else None
        )
        self.runner = JobRunner(self.settings, state, self.metrics, self.dead_letters)
        for job in registry:
            self._register(job)

    @property
    def in_process(self) -> bool:
        """True when jobs run in this process (the in-memory broker)."""
        return isinstance(self.broker, InMemoryBroker)

    def _register(self, job: Job) -> None:
        runner = self.runner

        async def task(context: Context = TaskiqDepends(), **kwargs: Any) -> None:  # noqa: B008  # taskiq injects it, as FastAPI's Depends
            message = context.message
            delivery = Delivery(message.task_id, message.labels, kwargs)
            await runner.run(job, delivery)

        labels: dict[str, Any] = {}
        if job.cron is not None:
            labels["schedule"] = [{"cron": job.cron, "schedule_id": job.name}]
        elif job.every_seconds is not None:
            labels["schedule"] = [{"interval": job.every_seconds, "schedule_id": job.name}]
        self.broker.register_task(task, task_name=job.name, **labels)

    def enqueue(self, session: AsyncSession, job: Job, **kwargs: Any) -> None:
        """Send `job(**kwargs)` once `session`'s unit of work has committed; a rollback sends
        nothing. The request ID and trace context are taken now, from the caller."""
        if not self.settings.enabled:
            return
        self._check(job)
        labels = _origin_labels()
        after_commit(session, partial(self._send_after_commit, job, kwargs, labels))

    async def send(self, job: Job, **kwargs: Any) -> None:
        """Send now, outside any transaction (a CLI, a job starting another)."""
        self._check(job)
        await self._kick(job.name, kwargs, _origin_labels())

    async def _send_after_commit(
        self, job: Job, kwargs: dict[str, Any], labels: dict[str, str]
    ) -> None:
        labels[ENQUEUED_AT_LABEL] = repr(time.time())
        await self._kick(job.name, kwargs, labels)

    async def _kick(self, name: str, kwargs: Mapping[str, Any], labels: dict[str, str]) -> None:
        kicker: AsyncKicker[Any, Any] = AsyncKicker(name, self.broker, labels)
        await kicker.kiq(**kwargs)
        self.metrics.enqueued.labels(name).inc()

    def _check(self, job: Job) -> None:
        if self.registry.get(job.name) is not job:
            raise UnknownJobError(f"job {job.name!r} is not in this service's registry")

    async def retry_dead(self, dead_id: int) -> DeadJob | None:
        """Send dead letter `dead_id` again (its attempts start over); None when there is no
        such letter, or it was retried already."""
        if self.dead_letters is None:
            raise UnknownJobError("this service keeps no dead letters")

        async def send(dead: DeadJob) -> None:
            if self.registry.get(dead.job) is None:
                raise UnknownJobError(f"no job is named {dead.job!r} any more")
            labels = {REQUEST_ID_LABEL: dead.request_id} if dead.request_id else {}
            await self._kick(dead.job, dead.arguments, labels)

        return await self.dead_letters.retry(dead_id, send)

    async def wait_idle(self) -> None:
        """Waits until no job runs in this process (the in-process broker: tests, shutdown);
        returns at once with another broker, whose jobs run in workers."""
        if isinstance(self.broker, InMemoryBroker):
            await self.broker.wait_all()

    async def become_worker(self) -> None:
        """Reconnects the broker as a consumer (RabbitMQ opens its reading channel only
        then); the lifespan started it as a producer, as every process of the service is."""
        await self.broker.shutdown()
        self.broker.is_worker_process = True
        await self.broker.startup()

    async def start(self) -> None:
        """Connects the broker. One that does not answer does not stop the service (the API
        serves while Redis restarts, as its cache does): sends fail, each logged and counted
        as a failed after-commit callback, until it answers; a worker, which connects again as
        a consumer, does not start."""
        try:
            await self.broker.startup()
        except Exception as exc:  # noqa: BLE001  # redis-py's and aio-pika's errors share no base
            logger.warning("job broker not reachable at start: %s: %s", type(exc).__name__, exc)

    async def close(self) -> None:
        """For the in-process broker, the jobs running get up to the drain timeout to finish."""
        if (
            isinstance(self.broker, InMemoryBroker) and self.broker._running_tasks
        ):  # taskiq has no public "pending" accessor
            try:
                async with asyncio.timeout(self.settings.drain_timeout_seconds):
                    await self.wait_idle()
            except TimeoutError:
                logger.warning("in-process jobs still running at shutdown were abandoned")
        await self.broker.shutdown()

    @property
    def running(self) -> int:
        """Jobs running in this process now."""
        return self.runner.running

    async def sample_depth(self) -> None:
        """Refreshes the queue-depth gauge (a scrape calls it); a broker that does not answer
        leaves the last value."""
        try:
            depth = await self.depth()
        except Exception as exc:  # noqa: BLE001  # a scrape answers whatever the broker does
            logger.warning("queue depth not sampled: %s", exc)
            return
        if depth is not None:
            self.metrics.queue_depth.set(depth)

    async def depth(self) -> int | None:
        """Messages waiting or unacknowledged; None when the broker cannot tell cheaply."""
        if isinstance(self.broker, InMemoryBroker):
            return len(self.broker._running_tasks)  # see close()
        return await _stream_depth(self.broker)


async def _stream_depth(broker: AsyncBroker) -> int | None:
    try:
        from taskiq_redis import RedisStreamBroker
    except ImportError:  # the redis extra is optional
        return None

    if not isinstance(broker, RedisStreamBroker):
        return None
    from redis.asyncio import Redis

    async with Redis(connection_pool=broker.connection_pool) as redis:
        groups = await redis.xinfo_groups(broker.queue_name)
    for group in groups:
        name = group["name"]
        if (name.decode() if isinstance(name, bytes) else name) == broker.consumer_group_name:
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return None


def _origin_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    request_id = current_request_id()
    if request_id:
        labels[REQUEST_ID_LABEL] = request_id
    traceparent = _traceparent()
    if traceparent:
        labels[TRACEPARENT_LABEL] = traceparent
    return labels


def _traceparent() -> str | None:
    try:
        from opentelemetry import propagate
    except ImportError:  # the tracing extra is optional
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
