"""`apiforge scheduler`: taskiq's scheduler (with the worker's probe port) sending the jobs
declared with `cron=` or `every_seconds=`. Two schedulers running at once (a rollout, a second
replica) send each tick once: before sending, a scheduler claims the tick's key in Redis
(`SET key NX EX`), and only the one that set it sends. A tick is the cron minute, or the
interval's slot of wall-clock time (`now // every_seconds`; taskiq ticks on whole seconds).
Without Redis there is nothing to claim on: run a single scheduler. Not for: running the jobs
(kit.jobs.worker)."""

import asyncio
import logging
import signal
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from taskiq import ScheduledTask, TaskiqScheduler
from taskiq.api import run_scheduler_task
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.schedule_sources import LabelScheduleSource

from apiforge.kit.jobs.health import WorkerHealth
from apiforge.kit.logs import log_fields
from apiforge.kit.state import app_state

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from apiforge.kit.jobs.queue import JobQueue

logger = logging.getLogger("apiforge.jobs")
# A claimed tick is remembered this long past its slot (clocks of two hosts may differ).
_CLAIM_MARGIN_SECONDS = 60


def tick_of(task: ScheduledTask, now: float) -> tuple[int, int]:
    """The tick a send at `now` belongs to, and how long (s) the tick lasts."""
    if task.cron is not None:
        return int(now // 60), 60
    interval = task.interval
    seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval or 1
    period = max(int(seconds), 1)
    return int(round(now) // period), period


class OncePerTickSource(LabelScheduleSource):
    """taskiq's label-based schedules, each tick sent by one scheduler only (claimed in Redis
    under `prefix`)."""

    def __init__(self, broker: Any, redis: "Redis | None", prefix: str) -> None:
        super().__init__(broker)
        self.redis = redis
        self.prefix = prefix

    async def pre_send(self, task: ScheduledTask) -> None:
        if self.redis is None:
            return
        tick, period = tick_of(task, time.time())
        key = f"{self.prefix}:{task.task_name}:{tick}"
        claimed = await self.redis.set(key, "1", nx=True, ex=period + _CLAIM_MARGIN_SECONDS)
        if not claimed:
            log_fields(logger, logging.DEBUG, "tick sent by another scheduler", {"key": key})
            raise ScheduledTaskCancelledError
        log_fields(
            logger, logging.INFO, "scheduled job sent", {"job": task.task_name, "tick": tick}
        )


async def run_scheduler(app: Any) -> None:
    """Runs the schedule of `app`'s jobs until SIGTERM/SIGINT."""
    async with app.router.lifespan_context(app):
        state = app_state(app)
        queue = state.jobs
        if queue is None or not any(job.scheduled for job in queue.registry):
            log_fields(logger, logging.WARNING, "no scheduled jobs; the scheduler idles", {})
        if state.redis is None:
            log_fields(
                logger,
                logging.WARNING,
                "no Redis: nothing prevents a second scheduler from sending the same tick",
                {},
            )
        finish = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, finish.set)
        if queue is None:
            await finish.wait()
            return
        jobs = state.settings.jobs
        health = WorkerHealth(queue.metrics_registry, ready=True)
        if jobs.health_port is not None:
            await health.start(jobs.health_host, jobs.health_port)
        prefix = f"{jobs.queue}:schedule"
        source = OncePerTickSource(queue.broker, state.redis, prefix)
        scheduler = TaskiqScheduler(queue.broker, [source])
        running = asyncio.create_task(run_scheduler_task(scheduler))
        log_fields(logger, logging.INFO, "scheduler started", {"queue": state.settings.jobs.queue})
        stop = asyncio.create_task(finish.wait())
        await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        running.cancel()
        stop.cancel()
        await asyncio.gather(running, stop, return_exceptions=True)
        await health.stop()
        log_fields(logger, logging.INFO, "scheduler stopped", {})


async def embedded_schedule(queue: "JobQueue") -> None:
    """Sends `queue`'s scheduled jobs until cancelled, from the serving process (the
    in-process broker: they run right there). One process only, so no tick to claim."""
    scheduler = TaskiqScheduler(queue.broker, [OncePerTickSource(queue.broker, None, "")])
    log_fields(logger, logging.INFO, "in-process scheduler started", {})
    await run_scheduler_task(scheduler)
