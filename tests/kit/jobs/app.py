"""A kit service with jobs only, for the job tests: in process (`jobs_app(...)`) and as real
worker and scheduler processes (`apiforge worker --app tests.kit.jobs.app:create_jobs_app`,
settings from the environment). Every job notes what it did in Redis under the key it is given,
so a test (or another process) can count runs: `<key>:runs` (attempts), `<key>:done` (a hash
of completed runs per message id), `<key>:started` (a set of message ids)."""

import asyncio
import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import DeclarativeBase

from apiforge.kit import (
    DeadJobMixin,
    JobContext,
    JobRegistry,
    Settings,
    StartupHook,
    app_state,
    create_app,
)
from apiforge.kit.state import AppState

JOBS = JobRegistry()


class _Base(DeclarativeBase):
    """Not the kit's Base: the shop's metadata (and its migrations) never see this table."""


class TestDeadJob(DeadJobMixin, _Base):
    __tablename__ = "dead_jobs"


class FlakyError(RuntimeError):
    pass


def _redis(ctx: JobContext) -> Any:
    if ctx.state.redis is None:
        raise RuntimeError("the job tests need APIFORGE_REDIS_URL")
    return ctx.state.redis


@JOBS.job("tests.flaky", max_attempts=5)
async def flaky(ctx: JobContext, key: str, failures: int) -> None:
    """Fails its first `failures` attempts, then succeeds."""
    runs = await _redis(ctx).incr(f"{key}:runs")
    if runs <= failures:
        raise FlakyError(f"attempt {runs} fails on purpose")
    await _redis(ctx).hincrby(f"{key}:done", ctx.message_id, 1)


@JOBS.job("tests.always_fails", max_attempts=3)
async def always_fails(ctx: JobContext, key: str) -> None:
    await _redis(ctx).incr(f"{key}:runs")
    raise FlakyError("never works")


@JOBS.job("tests.too_slow", max_attempts=2, timeout_seconds=0.2)
async def too_slow(ctx: JobContext, key: str) -> None:
    await _redis(ctx).incr(f"{key}:runs")
    await asyncio.sleep(5)


@JOBS.job("tests.slow", max_attempts=1)
async def slow(ctx: JobContext, key: str, seconds: float) -> None:
    """Notes its start, sleeps, notes its completion (per message id)."""
    await _redis(ctx).sadd(f"{key}:started", ctx.message_id)
    await _redis(ctx).sadd(f"{key}:pids", os.getpid())
    await asyncio.sleep(seconds)
    await _redis(ctx).hincrby(f"{key}:done", ctx.message_id, 1)


@JOBS.job("tests.request_id", max_attempts=1)
async def request_id(ctx: JobContext, key: str) -> None:
    await _redis(ctx).set(f"{key}:request_id", ctx.request_id or "")


@JOBS.job("tests.tick", every_seconds=1)
async def tick(ctx: JobContext) -> None:
    """Scheduled: each run is a message on the queue (the scheduler tests count them)."""


async def _create_dead_jobs(state: AppState) -> None:
    async with state.database.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)


CREATE_TABLES: StartupHook = _create_dead_jobs


def jobs_app(settings: Settings) -> FastAPI:
    return create_app(
        settings, title="jobs", jobs=JOBS, dead_jobs=TestDeadJob, on_startup=[CREATE_TABLES]
    )


def create_jobs_app() -> FastAPI:
    return jobs_app(Settings())


__all__ = ["JOBS", "app_state", "create_jobs_app", "jobs_app"]
