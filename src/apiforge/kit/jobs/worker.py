"""`apiforge worker`: one process taking jobs off the broker with taskiq's receiver, inside the
service's own lifespan (so jobs get the same database, Redis and clients as requests). SIGTERM
drains: it stops taking messages, gives the jobs running `drain_timeout_seconds` to finish,
and leaves every message it has not finished unacknowledged, for another worker. Not for:
several processes (kit.jobs.supervisor) or the schedule (kit.jobs.scheduler)."""

import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from apiforge.kit.jobs.health import WorkerHealth
from apiforge.kit.jobs.queue import JobQueue
from apiforge.kit.logs import log_fields
from apiforge.kit.state import app_state

logger = logging.getLogger("apiforge.jobs")
# What a drained worker leaves behind is redelivered; an abandoned job must not be
# acknowledged as done by its cancellation, so the process leaves without cancelling it.
ABANDONED_EXIT = 0
# How often a supervised process samples the queue depth (Prometheus scrapes every 15-30 s).
DEPTH_SAMPLE_SECONDS = 10.0
_IN_WORKER: ContextVar[bool] = ContextVar("apiforge_in_worker", default=False)


def in_worker() -> bool:
    """True inside `run_worker`, its lifespan included: a lifespan resource that belongs in
    the worker rather than the serving process (the outbox relay on PostgreSQL) asks it."""
    return _IN_WORKER.get()


class WorkerError(RuntimeError):
    """The service cannot run a worker as configured (the message says what to change)."""


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Overrides of the `jobs` settings for one run (None: the setting)."""

    concurrency: int | None = None
    drain_timeout: float | None = None
    health_port: int | None = None
    serve_health: bool = True


async def run_worker(app: Any, options: WorkerOptions = WorkerOptions()) -> None:
    """Runs the worker of `app` (built by `create_app` with `jobs=...`) until SIGTERM/SIGINT."""
    role = _IN_WORKER.set(True)
    try:
        await _run(app, options)
    finally:
        _IN_WORKER.reset(role)


async def _run(app: Any, options: WorkerOptions) -> None:
    async with app.router.lifespan_context(app):
        state = app_state(app)
        queue = state.jobs
        if queue is None:
            raise WorkerError(f"{state.settings.service_name} declares no jobs")
        if queue.in_process:
            names = state.settings.env_name("redis_url"), state.settings.env_name("jobs.broker")
            raise WorkerError(
                "jobs run inside the serving process with the in-process broker: set "
                f"{names[0]} or {names[1]}"
            )
        await _serve(queue, options, state.settings.jobs.health_host)


async def _serve(queue: JobQueue, options: WorkerOptions, health_host: str) -> None:
    settings = queue.settings
    drain = (
        settings.drain_timeout_seconds if options.drain_timeout is None else options.drain_timeout
    )
    finish = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, finish.set)
    health = WorkerHealth(queue.metrics_registry, before_scrape=queue.sample_depth)
    port = options.health_port if options.health_port is not None else settings.health_port
    if options.serve_health and port is not None:
        port = await health.start(health_host, port)
    await queue.become_worker()
    # Supervised (no probe port of its own), nobody scrapes this process: it samples the
    # queue's depth itself for the supervisor's /metrics.
    sampling = None if options.serve_health else asyncio.create_task(_sample_depth(queue))
    with ThreadPoolExecutor(max_workers=1) as executor:
        receiver = Receiver(
            queue.broker,
            executor=executor,
            run_startup=False,
            max_async_tasks=options.concurrency or settings.concurrency,
            max_prefetch=0,
            # Acknowledged when the run ended (succeeded, or dead-lettered): a worker that
            # dies first leaves the message to be redelivered.
            ack_type=AcknowledgeType.WHEN_EXECUTED,
            wait_tasks_timeout=drain,
        )
        listening = asyncio.create_task(receiver.listen(finish))
        health.ready = True
        log_fields(
            logger,
            logging.INFO,
            "worker started",
            {"pid": os.getpid(), "queue": settings.queue, "health_port": port},
        )
        stop = asyncio.create_task(finish.wait())
        await asyncio.wait({listening, stop}, return_when=asyncio.FIRST_COMPLETED)
        health.ready = False
        if not listening.done():
            log_fields(logger, logging.INFO, "worker draining", {"running": queue.running})
            await listening
        stop.cancel()
        if sampling is not None:
            sampling.cancel()
        await health.stop()
        if queue.running:
            log_fields(
                logger,
                logging.WARNING,
                "worker drain timed out; unfinished jobs stay queued for redelivery",
                {"abandoned": queue.running},
            )
            _leave_now()
        listening.result()  # a broker failure surfaces here
    log_fields(logger, logging.INFO, "worker stopped", {"pid": os.getpid()})


async def _sample_depth(queue: JobQueue) -> None:
    while True:
        await queue.sample_depth()
        await asyncio.sleep(DEPTH_SAMPLE_SECONDS)


def _leave_now() -> None:
    """Exit without cancelling the abandoned jobs (a cancelled run would be acknowledged)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(ABANDONED_EXIT)
