"""The job queue as a lifespan resource: built on the app's state when it starts (the broker
connected, `state.jobs` set), closed when it stops (in-process jobs get the drain timeout).
With the in-process broker it also runs the schedule (`jobs.embedded_scheduler`), since no
worker or scheduler process runs beside it. Not for: the worker's loop (kit.jobs.worker)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from apiforge.kit.jobs.queue import JobQueue
from apiforge.kit.jobs.registry import JobRegistry
from apiforge.kit.jobs.scheduler import embedded_schedule
from apiforge.kit.settings import Environment

if TYPE_CHECKING:
    from apiforge.kit.state import AppState


def jobs_resource(
    registry: JobRegistry, dead_jobs: type[Any] | None, metrics: CollectorRegistry | None
) -> "Any":
    """A `LifespanResource` running `registry`'s queue; `metrics`: the registry the app's
    /metrics collects (None: the queue keeps its own)."""

    def resource(state: "AppState") -> AbstractAsyncContextManager[None]:
        return _running(state, registry, dead_jobs, metrics)

    return resource


@asynccontextmanager
async def _running(
    state: "AppState",
    registry: JobRegistry,
    dead_jobs: type[Any] | None,
    metrics: CollectorRegistry | None,
) -> AsyncIterator[None]:
    queue = JobQueue(state, registry, dead_jobs=dead_jobs, registry_for_metrics=metrics)
    await queue.start()
    state.jobs = queue
    schedule: asyncio.Task[None] | None = None
    if _schedules_here(state, queue):
        schedule = asyncio.create_task(embedded_schedule(queue), name="jobs-schedule")
    try:
        yield
    finally:
        if schedule is not None:
            schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await schedule
        state.jobs = None
        await queue.close()


def _schedules_here(state: "AppState", queue: JobQueue) -> bool:
    wanted = state.settings.jobs.embedded_scheduler
    if wanted is None:
        wanted = state.settings.environment is not Environment.TEST
    return wanted and queue.in_process and any(job.scheduled for job in queue.registry)
