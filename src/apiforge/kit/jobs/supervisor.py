"""`apiforge worker --processes N`: N worker processes under one supervisor, which forwards
SIGTERM/SIGINT to them (each drains on its own), restarts one that dies unasked, and answers the
probes for all (live while it runs, ready while every process is) and /metrics with every
process's figures summed (prometheus_client's multiprocess files). Not for: one process (the
Deployment runs one per pod; kit.jobs.worker)."""

import asyncio
import logging
import signal
import subprocess
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry

from apiforge.kit.jobs.health import WorkerHealth
from apiforge.kit.logs import log_fields

logger = logging.getLogger("apiforge.jobs")
_POLL_SECONDS = 0.5
_RESTART_PAUSE_SECONDS = 1.0


async def supervise_workers(
    command: Sequence[str],
    processes: int,
    *,
    health_host: str,
    health_port: int | None,
    metrics: CollectorRegistry | None = None,
    on_replace: Callable[[], object] | None = None,
) -> int:
    """Runs `command` (one worker process, without probes of its own) `processes` times until
    SIGTERM/SIGINT; returns the exit code (non-zero when a process ended badly at shutdown).
    `metrics`: what the probe port's /metrics answers (the processes' figures summed:
    `multiprocess_registry` over the directory `prepare_metrics_dir` gave them; None: nothing);
    `on_replace` runs before a dead process is replaced (`sweep_dead_processes` there)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    children = [_spawn(command) for _ in range(processes)]
    health = WorkerHealth(CollectorRegistry() if metrics is None else metrics, ready=True)
    if health_port is not None:
        health_port = await health.start(health_host, health_port)
    log_fields(
        logger,
        logging.INFO,
        "worker supervisor started",
        {"processes": processes, "health_port": health_port},
    )
    while not stopping.is_set():
        for index, child in enumerate(children):
            if child.poll() is not None:
                log_fields(
                    logger,
                    logging.WARNING,
                    "worker process died; restarting it",
                    {"pid": child.pid, "returncode": child.returncode},
                )
                await asyncio.sleep(_RESTART_PAUSE_SECONDS)
                if on_replace is not None:
                    on_replace()
                children[index] = _spawn(command)
        health.ready = all(child.poll() is None for child in children)
        try:
            async with asyncio.timeout(_POLL_SECONDS):
                await stopping.wait()
        except TimeoutError:
            pass
    health.ready = False
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    codes = [await asyncio.to_thread(child.wait) for child in children]
    await health.stop()
    log_fields(logger, logging.INFO, "worker supervisor stopped", {"returncodes": codes})
    return 0 if all(code == 0 for code in codes) else 1


def _spawn(command: Sequence[str]) -> "subprocess.Popen[bytes]":
    # The children inherit stdout/stderr (their JSON lines go where ours go) and the
    # environment; their own SIGINT from a terminal's Ctrl-C comes through us, as SIGTERM.
    return subprocess.Popen(command, start_new_session=True)  # noqa: S603  # our own argv
