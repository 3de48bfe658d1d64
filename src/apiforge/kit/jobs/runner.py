"""Running one job message to its end: each attempt bounded by its timeout, a failed one
retried after an exponential backoff with full jitter, the last failure stored as a dead
letter; one log line and the metrics per attempt; the enqueuing request's ID bound to the
job's log lines and its trace context as the parent of the job's span. Not for: taking
messages off the broker (taskiq's receiver) or sending them (kit.jobs.queue).

The retries wait inside the worker, holding one of its slots, and the message is acknowledged
only once the job succeeded or was dead-lettered: a worker that dies mid-backoff leaves the
message to be redelivered, so no failure is lost between attempts."""

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apiforge.kit.jobs.context import JobContext
from apiforge.kit.jobs.dead_letters import DeadLetterStore
from apiforge.kit.jobs.metrics import JobMetrics
from apiforge.kit.jobs.registry import Job
from apiforge.kit.logs import log_fields
from apiforge.kit.request_context import bind_request_id, reset_request_id
from apiforge.kit.settings.jobs import JobsSettings

if TYPE_CHECKING:
    from apiforge.kit.state import AppState

logger = logging.getLogger("apiforge.jobs")

REQUEST_ID_LABEL = "request_id"
TRACEPARENT_LABEL = "traceparent"
ENQUEUED_AT_LABEL = "enqueued_at"


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Full jitter (AWS's "Exponential Backoff And Jitter"): uniform in [0, min(cap, base *
    2**(attempt-1))], so jobs that failed together do not retry together."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311  # spreading retries, not a secret


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the runner needs it."""

    message_id: str
    labels: Mapping[str, Any]
    kwargs: dict[str, Any]

    @property
    def request_id(self) -> str | None:
        value = self.labels.get(REQUEST_ID_LABEL)
        return str(value) if value else None


class JobRunner:
    def __init__(
        self,
        settings: JobsSettings,
        state: "AppState",
        metrics: JobMetrics,
        dead_letters: DeadLetterStore | None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.metrics = metrics
        self.dead_letters = dead_letters
        self.running = 0

    async def run(self, job: Job, delivery: Delivery) -> None:
        token = bind_request_id(delivery.request_id)
        self.running += 1
        try:
            self._observe_latency(job, delivery)
            with _job_span(self.state, job, delivery):
                await self._attempts(job, delivery)
        finally:
            self.running -= 1
            reset_request_id(token)

    async def _attempts(self, job: Job, delivery: Delivery) -> None:
        limit = job.max_attempts or self.settings.max_attempts
        timeout = job.timeout_seconds or self.settings.timeout_seconds
        for attempt in range(1, limit + 1):
            error = await self._attempt(job, delivery, attempt, timeout)
            if error is None:
                return
            if attempt < limit:
                self.metrics.retried.labels(job.name).inc()
                await asyncio.sleep(
                    backoff_seconds(
                        attempt,
                        self.settings.backoff_base_seconds,
                        self.settings.backoff_max_seconds,
                    )
                )
                continue
            await self._dead_letter(job, delivery, attempt, error)

    async def _attempt(
        self, job: Job, delivery: Delivery, attempt: int, limit_seconds: float
    ) -> str | None:
        """Runs one attempt; the error's one-line description, or None when it succeeded."""
        context = JobContext(
            self.state, job.name, attempt, delivery.message_id, delivery.request_id
        )
        self.metrics.started.labels(job.name).inc()
        started = time.perf_counter()
        error: str | None = None
        try:
            async with asyncio.timeout(limit_seconds):
                await job.handler(context, **delivery.kwargs)
        except TimeoutError:
            error = f"TimeoutError: attempt exceeded {limit_seconds:g} s"
        except Exception as exc:  # a job's failure of any kind is retried, then dead-lettered
            error = f"{type(exc).__name__}: {exc}"
            logger.debug("job %s attempt %d raised", job.name, attempt, exc_info=True)
        elapsed = time.perf_counter() - started
        outcome = "succeeded" if error is None else "failed"
        self.metrics.duration.labels(job.name, outcome).observe(elapsed)
        (self.metrics.succeeded if error is None else self.metrics.failed).labels(job.name).inc()
        fields: dict[str, object] = {
            "job": job.name,
            "outcome": outcome,
            "attempt": attempt,
            "duration_ms": round(elapsed * 1000, 2),
            "message_id": delivery.message_id,
        }
        if error is not None:
            fields["error"] = error
        log_fields(logger, logging.INFO if error is None else logging.WARNING, "job run", fields)
        return error

    async def _dead_letter(self, job: Job, delivery: Delivery, attempts: int, error: str) -> None:
        self.metrics.dead_lettered.labels(job.name).inc()
        if self.dead_letters is None:
            logger.error(
                "job %s failed %d times and no dead-letter store is set", job.name, attempts
            )
            return
        dead_id = await self.dead_letters.add(
            job=job.name,
            message_id=delivery.message_id,
            arguments=delivery.kwargs,
            attempts=attempts,
            error=error,
            request_id=delivery.request_id,
        )
        log_fields(
            logger,
            logging.ERROR,
            "job dead-lettered",
            {"job": job.name, "attempts": attempts, "dead_job_id": dead_id},
        )

    def _observe_latency(self, job: Job, delivery: Delivery) -> None:
        enqueued = delivery.labels.get(ENQUEUED_AT_LABEL)
        if enqueued is None:
            return  # scheduled or retried from the dead letters
        try:
            latency = time.time() - float(enqueued)
        except ValueError:
            return
        self.metrics.start_latency.labels(job.name).observe(max(latency, 0.0))


def _job_span(state: "AppState", job: Job, delivery: Delivery) -> AbstractContextManager[Any]:
    """A consumer span for the job, child of the enqueuing request's span, when tracing is
    on (the `tracing` extra is imported only then)."""
    provider = state.tracer_provider
    carrier = delivery.labels.get(TRACEPARENT_LABEL)
    if provider is None:
        return nullcontext()
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract({"traceparent": str(carrier)}) if carrier else None
    tracer = provider.get_tracer("apiforge.jobs")
    return tracer.start_as_current_span(
        f"job {job.name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={"messaging.message.id": delivery.message_id},
    )
