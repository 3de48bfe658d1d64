"""Real `apiforge worker` and `apiforge scheduler` processes running the test service of
`app.py`, with their JSON log lines read back. Every wait is bounded; `with` ends the process."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).parents[3]
APP = "tests.kit.jobs.app:create_jobs_app"
WAIT = 60.0
T = TypeVar("T")


def service_env(database_url: str, redis_url: str, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_JOBS__ENABLED": "true",
        "APIFORGE_JOBS__BROKER": "redis",
        "APIFORGE_JOBS__QUEUE": queue,
        "APIFORGE_JOBS__BACKOFF_BASE_SECONDS": "0.01",
        "APIFORGE_LOOP_LAG__ENABLED": "false",
        "APIFORGE_LOG_FORMAT": "json",
    }


class Process:
    """One `apiforge` command; `lines()` are its JSON log lines so far."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("wb")
        self.popen = subprocess.Popen(  # noqa: S603  # our own argv
            [sys.executable, "-m", "apiforge", *args, "--app", APP],
            cwd=ROOT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
        )

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for raw in self.log.read_text().splitlines():
            if raw.startswith("{"):
                found.append(json.loads(raw))
        return found

    def wait_for_line(self, event: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((line for line in self.lines() if line["event"] == event), None)

        return wait_until(found, f"{event!r} in {self.log}", self)

    def terminate(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=WAIT)

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=WAIT)
        self._file.close()


@contextmanager
def apiforge(args: list[str], env: dict[str, str], log: Path) -> Iterator[Process]:
    process = Process(args, env, log)
    try:
        yield process
    finally:
        process.close()


def wait_until(check: Callable[[], T | None], what: str, process: Process | None = None) -> T:
    deadline = time.monotonic() + WAIT
    while True:
        value = check()
        if value:
            return value
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(f"the process ended before {what}:\n{process.log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT} s")
        time.sleep(0.05)
