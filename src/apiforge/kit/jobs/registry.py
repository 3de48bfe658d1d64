"""Declaring a service's jobs: a `JobRegistry` (declared at import like an `APIRouter`, it holds
no resource) whose `job` decorator names an async handler and its limits. Not for: sending or
running them (kit.jobs.queue, kit.jobs.runner).

    ORDER_JOBS = JobRegistry()

    @ORDER_JOBS.job("orders.send_confirmation", max_attempts=5, timeout_seconds=30)
    async def send_confirmation(ctx: JobContext, order_id: int, event: str) -> None: ...
"""

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from apiforge.kit.jobs.context import JobContext

JobHandler = Callable[..., Awaitable[None]]
"""`async (ctx: JobContext, **kwargs) -> None`; kwargs are JSON values (IDs, not rows)."""


@dataclass(frozen=True, slots=True)
class Job:
    """A declared job: its stable `name` (the queue's routing key and metrics label), its
    handler, its own attempt limit and per-attempt timeout (None: the settings' defaults), and
    an optional schedule (`cron`, five fields, UTC; or `every_seconds`) for `apiforge
    scheduler`. Handlers must be idempotent: a job may run again after a crash."""

    name: str
    handler: JobHandler
    max_attempts: int | None = None
    timeout_seconds: float | None = None
    cron: str | None = None
    every_seconds: int | None = None

    async def __call__(self, ctx: JobContext, **kwargs: Any) -> None:
        """Run the handler directly (tests, or a job calling another inline)."""
        await self.handler(ctx, **kwargs)

    @property
    def scheduled(self) -> bool:
        return self.cron is not None or self.every_seconds is not None


class JobRegistry:
    """A service's jobs by name; `include` merges another registry (one per domain)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def job(
        self,
        name: str,
        *,
        max_attempts: int | None = None,
        timeout_seconds: float | None = None,
        cron: str | None = None,
        every_seconds: int | None = None,
    ) -> Callable[[JobHandler], Job]:
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if every_seconds is not None and every_seconds < 1:
            raise ValueError("every_seconds must be at least 1")

        def declare(handler: JobHandler) -> Job:
            job = Job(name, handler, max_attempts, timeout_seconds, cron, every_seconds)
            self._add(job)
            return job

        return declare

    def include(self, other: "JobRegistry") -> None:
        for job in other:
            self._add(job)

    def _add(self, job: Job) -> None:
        if job.name in self._jobs and self._jobs[job.name] is not job:
            raise ValueError(f"two jobs are named {job.name!r}")
        self._jobs[job.name] = job

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)
