"""FastAPI wiring: the running app's job queue for a route's service. Not for: anything else."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit.jobs.queue import JobQueue
from apiforge.kit.state import app_state


async def job_queue(request: Request) -> JobQueue:
    queue = app_state(request.app).jobs
    if queue is None:
        raise RuntimeError("the app has no job queue: pass jobs=... to create_app")
    return queue


Jobs = Annotated[JobQueue, Depends(job_queue)]
Jobs.__doc__ = """The app's `JobQueue` (`create_app(jobs=registry)`): hand it to a service, which
calls `jobs.enqueue(session, job, **kwargs)` to send a job once the request has committed."""
