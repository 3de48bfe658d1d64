"""`apiforge worker`, `apiforge scheduler` and `apiforge jobs failed|retry`: the service's job
processes and its dead letters. Thin: the kit runs the worker (kit.jobs) inside the service's
own lifespan; each command loads the service through its app factory."""

import asyncio
import shutil
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.service import DEFAULT_APP, AppOption, fail, load_app

if TYPE_CHECKING:
    from fastapi import FastAPI

jobs_app = typer.Typer(
    help="The service's dead letters: jobs that used up their attempts.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def worker(
    processes: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes.", show_default="jobs.processes"),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, max=1000, help="Jobs each process runs at once.", show_default="jobs.concurrency"
        ),
    ] = None,
    drain_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=3600,
            help="Seconds running jobs get to finish after SIGTERM.",
            show_default="jobs.drain_timeout_seconds",
        ),
    ] = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Probe and /metrics port.", show_default="jobs.health_port"
        ),
    ] = None,
    no_health: Annotated[
        bool, typer.Option("--no-health", help="Serve no probe port (a supervised process).")
    ] = False,
    app: AppOption = DEFAULT_APP,
) -> None:
    """Run the service's jobs (the shop unless --app names another) until SIGTERM."""
    from apiforge.kit import WorkerError, WorkerOptions, app_config, run_worker

    built = _load(app)
    settings = app_config(built).settings
    count = processes or settings.jobs.processes
    if count > 1:
        from apiforge.kit import (
            multiprocess_registry,
            prepare_metrics_dir,
            supervise_workers,
            sweep_dead_processes,
        )

        command = [sys.executable, "-m", "apiforge", "worker", "--processes", "1", "--no-health"]
        command += ["--app", app]
        if concurrency is not None:
            command += ["--concurrency", str(concurrency)]
        if drain_timeout is not None:
            command += ["--drain-timeout", str(drain_timeout)]
        port = health_port if health_port is not None else settings.jobs.health_port
        # Before any process starts: they inherit the directory and write their figures there;
        # the supervisor's /metrics sums them.
        metrics_dir = prepare_metrics_dir(settings)
        summed = None if metrics_dir is None else str(metrics_dir)
        try:
            code = asyncio.run(
                supervise_workers(
                    command,
                    count,
                    health_host=settings.jobs.health_host,
                    health_port=port,
                    metrics=None if summed is None else multiprocess_registry(summed),
                    # A replaced process's queue-depth sample stops counting (livemax).
                    on_replace=None if summed is None else lambda: sweep_dead_processes(summed),
                )
            )
        finally:
            if metrics_dir is not None and settings.metrics.multiproc_dir is None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        raise typer.Exit(code)
    options = WorkerOptions(
        concurrency=concurrency,
        drain_timeout=drain_timeout,
        health_port=health_port,
        serve_health=not no_health,
    )
    try:
        asyncio.run(run_worker(built, options))
    except WorkerError as exc:
        fail(str(exc))


def scheduler(app: AppOption = DEFAULT_APP) -> None:
    """Send the service's scheduled jobs on time until SIGTERM (two at once send each tick
    once: see the README)."""
    from apiforge.kit import run_scheduler

    asyncio.run(run_scheduler(_load(app)))


@jobs_app.command()
def failed(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    all_: Annotated[bool, typer.Option("--all", help="Include those retried already.")] = False,
    app: AppOption = DEFAULT_APP,
) -> None:
    """List dead letters, newest first: id, job, attempts, when, last error."""
    from apiforge.kit import app_state

    built = _load(app)

    async def work() -> None:
        async with built.router.lifespan_context(built):
            queue = app_state(built).jobs
            if queue is None or queue.dead_letters is None:
                fail(f"{app} keeps no dead letters")
            for dead in await queue.dead_letters.list(include_retried=all_, limit=limit):
                retried = f" retried {dead.retried_at:%Y-%m-%d %H:%M:%S}" if dead.retried_at else ""
                typer.echo(
                    f"{dead.id}\t{dead.job}\t{dead.attempts} attempts\t"
                    f"{dead.failed_at:%Y-%m-%d %H:%M:%S}{retried}\t{dead.error}"
                )

    asyncio.run(work())


@jobs_app.command()
def retry(
    dead_id: Annotated[int, typer.Argument(min=1, help="The dead letter's id (jobs failed).")],
    app: AppOption = DEFAULT_APP,
) -> None:
    """Send a dead letter's job again (its attempts start over)."""
    from apiforge.kit import UnknownJobError, app_state

    built = _load(app)

    async def work() -> bool:
        async with built.router.lifespan_context(built):
            queue = app_state(built).jobs
            if queue is None:
                fail(f"{app} declares no jobs")
            try:
                return await queue.retry_dead(dead_id) is not None
            except UnknownJobError as exc:
                fail(str(exc), 1)

    if not asyncio.run(work()):
        fail(f"no dead letter {dead_id} waiting to be retried", 1)
    typer.echo(f"Sent dead letter {dead_id} again.")


def _load(app: str) -> "FastAPI":
    from apiforge.cli.service import ServiceLoadError

    try:
        return load_app(app)
    except ServiceLoadError as exc:
        fail(str(exc))
