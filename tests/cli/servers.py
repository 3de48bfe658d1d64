"""Real server processes for the CLI and deploy tests: `apiforge serve` or Gunicorn with
deploy/gunicorn.conf.py, started with a given environment, waited for, stopped by a signal,
their stderr kept in a file and read back as JSON lines."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).parents[2]
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
SLOW_APP = "tests.cli.slow_app:create_slow_app"
# Start-up imports the whole service; on a loaded two-core machine that takes seconds.
STARTUP_TIMEOUT_SECONDS = 90
# (sample name, labels) -> value
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Server:
    process: "subprocess.Popen[bytes]"
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def json_lines(self) -> list[dict[str, object]]:
        """Every stderr line, each of which must be one JSON object."""
        parsed = []
        for line in self.lines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"not a JSON line: {line!r}") from None
            assert isinstance(value, dict), line
            parsed.append(value)
        return parsed

    def events(self) -> list[str]:
        return [str(line.get("event")) for line in self.json_lines()]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "apiforge", "serve", *args]


def gunicorn_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), *args]


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[Server]:
    """Starts `command` (run from `log`'s directory, with the repository importable), waits
    until it answers /health/live, and kills it if the test leaves it running."""
    pythonpath = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    full_env = env | {"PYTHONPATH": pythonpath}
    with log.open("wb") as stderr:
        # A session of its own, so the cleanup below reaches the workers too: a SIGKILLed
        # Granian supervisor leaves its workers serving otherwise.
        process = subprocess.Popen(  # noqa: S603  # our own interpreter and arguments
            command,
            env=full_env,
            cwd=log.parent,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        wait_live(server)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # workers left behind
            os.killpg(process.pid, signal.SIGKILL)


def wait_live(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"the server exited with {server.process.returncode}:\n{server.log.read_text()}"
            )
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer within {STARTUP_TIMEOUT_SECONDS} s")


def refuses_connections(port: int, within: float = 30) -> bool:
    """Whether connecting to `port` is refused (nothing listens any more) within `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def wait_for(predicate: Callable[[], bool], within: float = 60) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def wait_for_ok(url: str, process: "subprocess.Popen[str]", within: float = 120) -> httpx.Response:
    """The first 200 from `url`, polled while `process` (a server started with its output on
    a pipe) runs; fails with that output if it exits first, or after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"exited with {process.returncode}: {output[-3000:]}")
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return response
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 in time")


def scrape(port: int) -> Samples:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
