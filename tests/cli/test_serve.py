"""`apiforge serve` as a real process: the console entry point, Uvicorn with uvloop and
httptools, and a clean exit on SIGINT."""

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _apiforge(*args: str) -> list[str]:
    return [sys.executable, "-m", "apiforge", *args]


def test_serve_refuses_production_without_secret(clean_env: dict[str, str]) -> None:
    env = clean_env | {"APIFORGE_ENVIRONMENT": "production"}
    done = subprocess.run(  # noqa: S603  # our own interpreter and arguments
        _apiforge("serve", "--port", str(_free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("apiforge: invalid settings: APIFORGE_SECRET_KEY must be set")
    assert done.stderr.count("\n") == 1


def _wait_until_live(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("server did not answer in time")


def test_serve_answers_and_stops_cleanly(clean_env: dict[str, str], sqlite_url: str) -> None:
    port = _free_port()
    env = clean_env | {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and arguments
        _apiforge("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = _wait_until_live(f"http://127.0.0.1:{port}/health/live", process)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert response.status_code == 200
    assert "server" not in response.headers
    assert process.returncode == 0
    assert "Application shutdown complete" in output
