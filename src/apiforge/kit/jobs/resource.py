"""The job queue as a lifespan resource: built on the app's state when it starts (the broker
connected, `state.jobs` set), closed when it stops (in-process jobs get the drain timeout).
Not for: the worker's loop (kit.jobs.worker)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from apiforge.kit.jobs.queue import JobQueue
from apiforge.kit.jobs.registry import JobRegistry

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
    try:
        yield
    finally:
        state.jobs = None
        await queue.close()
