"""Running a job: retries with backoff, the attempt limit, the timeout, the dead letters and
their retry, the request ID carried from the enqueuing request, the metrics and the log line."""

import logging
from typing import Any

import pytest
from fastapi import FastAPI

from apiforge.kit import app_state
from apiforge.kit.jobs import backoff_seconds
from apiforge.kit.request_context import bind_request_id, reset_request_id
from tests.kit.jobs.app import always_fails, flaky, request_id, too_slow
from tests.kit.jobs.conftest import queue_of


def _count(queue: Any, metric: str, job: str) -> float:
    value = queue.metrics_registry.get_sample_value(metric, {"job": job})
    return 0.0 if value is None else float(value)


async def test_a_job_failing_twice_then_succeeding_runs_three_times(
    in_process: FastAPI, redis_client: Any
) -> None:
    queue = queue_of(in_process)
    await queue.send(flaky, key="f", failures=2)
    await queue.wait_idle()
    assert int(await redis_client.get("f:runs")) == 3
    assert list((await redis_client.hgetall("f:done")).values()) == [b"1"]
    assert _count(queue, "apiforge_jobs_started_total", "tests.flaky") == 3
    assert _count(queue, "apiforge_jobs_failed_total", "tests.flaky") == 2
    assert _count(queue, "apiforge_jobs_retried_total", "tests.flaky") == 2
    assert _count(queue, "apiforge_jobs_succeeded_total", "tests.flaky") == 1
    assert _count(queue, "apiforge_jobs_dead_lettered_total", "tests.flaky") == 0
    assert queue.dead_letters is not None
    assert await queue.dead_letters.list() == []


async def test_an_always_failing_job_is_dead_lettered_then_retry_runs_it_again(
    in_process: FastAPI, redis_client: Any
) -> None:
    queue = queue_of(in_process)
    assert queue.dead_letters is not None
    await queue.send(always_fails, key="a")
    await queue.wait_idle()
    assert int(await redis_client.get("a:runs")) == 3  # its limit
    [dead] = await queue.dead_letters.list()
    assert (dead.job, dead.attempts, dead.arguments) == ("tests.always_fails", 3, {"key": "a"})
    assert dead.error == "FlakyError: never works"
    assert _count(queue, "apiforge_jobs_dead_lettered_total", "tests.always_fails") == 1

    retried = await queue.retry_dead(dead.id)
    await queue.wait_idle()
    assert retried is not None
    assert int(await redis_client.get("a:runs")) == 6  # three more attempts
    # The first letter is marked retried; the second run failed again: a new letter.
    [again] = await queue.dead_letters.list()
    assert again.id != dead.id
    assert [d.id for d in await queue.dead_letters.list(include_retried=True)] == [
        again.id,
        dead.id,
    ]
    assert await queue.retry_dead(dead.id) is None  # retried once only


async def test_an_attempt_past_its_timeout_fails(in_process: FastAPI, redis_client: Any) -> None:
    queue = queue_of(in_process)
    await queue.send(too_slow, key="t")
    await queue.wait_idle()
    assert int(await redis_client.get("t:runs")) == 2
    assert queue.dead_letters is not None
    [dead] = await queue.dead_letters.list()
    assert dead.error == "TimeoutError: attempt exceeded 0.2 s"


async def test_the_request_id_reaches_the_job_and_its_log_line(
    in_process: FastAPI, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    queue = queue_of(in_process)
    token = bind_request_id("req-123")
    try:
        await queue.send(request_id, key="r")
    finally:
        reset_request_id(token)
    with caplog.at_level(logging.INFO, logger="apiforge.jobs"):
        await queue.wait_idle()
    assert await redis_client.get("r:request_id") == b"req-123"
    [line] = [r for r in caplog.records if r.getMessage() == "job run"]
    fields = line.__dict__["fields"]
    assert (fields["job"], fields["outcome"], fields["attempt"]) == (
        "tests.request_id",
        "succeeded",
        1,
    )
    assert "duration_ms" in fields
    assert queue.dead_letters is not None


def test_backoff_doubles_up_to_its_cap_with_full_jitter() -> None:
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 10.0)):
        draws = [backoff_seconds(attempt, 1.0, 10.0) for _ in range(200)]
        assert all(0 <= draw <= ceiling for draw in draws)
        assert max(draws) > ceiling / 2  # spread over the range, not a fixed delay
        assert len(set(draws)) > 100


async def test_the_trace_context_makes_the_job_span_a_child_of_the_request(
    in_process: FastAPI, redis_client: Any
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    state = app_state(in_process)
    state.tracer_provider = provider
    queue = queue_of(in_process)
    try:
        with provider.get_tracer("test").start_as_current_span("request") as request_span:
            await queue.send(request_id, key="traced")
        await queue.wait_idle()
    finally:
        state.tracer_provider = None
    [job_span] = [span for span in exporter.get_finished_spans() if span.name.startswith("job ")]
    assert job_span.name == "job tests.request_id"
    assert job_span.parent is not None
    assert job_span.parent.span_id == request_span.get_span_context().span_id
    assert job_span.context.trace_id == request_span.get_span_context().trace_id
