"""Jobs: work after the request, on taskiq. A service declares jobs in a `JobRegistry`, passes it
to `create_app(jobs=..., dead_jobs=...)`, and sends one with `jobs.enqueue(session, job, ...)`
(after the commit; a rollback sends nothing). `apiforge worker` runs them with retries, a
timeout and a dead-letter table; `apiforge scheduler` sends the scheduled ones. Not for: domain
events (kit.outbox) or mail itself (kit.mail)."""

from apiforge.kit.jobs.context import JobContext
from apiforge.kit.jobs.dead_letters import DeadJob, DeadJobMixin, DeadLetterStore
from apiforge.kit.jobs.dependencies import Jobs
from apiforge.kit.jobs.queue import JobQueue, UnknownJobError
from apiforge.kit.jobs.registry import Job, JobHandler, JobRegistry
from apiforge.kit.jobs.resource import jobs_resource
from apiforge.kit.jobs.runner import backoff_seconds
from apiforge.kit.jobs.scheduler import run_scheduler
from apiforge.kit.jobs.supervisor import supervise_workers
from apiforge.kit.jobs.worker import WorkerError, WorkerOptions, in_worker, run_worker

__all__ = [
    "DeadJob",
    "DeadJobMixin",
    "DeadLetterStore",
    "Job",
    "JobContext",
    "JobHandler",
    "JobQueue",
    "JobRegistry",
    "Jobs",
    "UnknownJobError",
    "WorkerError",
    "WorkerOptions",
    "backoff_seconds",
    "in_worker",
    "jobs_resource",
    "run_scheduler",
    "run_worker",
    "supervise_workers",
]
